import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { resolveServiceConfig, type ServiceConfigInput } from '../../src/config/resolve.js';
import { registerProxyRoutes } from '../../src/proxy/index.js';

/** One call the upstream received. */
export interface UpstreamCall {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type UpstreamScript = (call: UpstreamCall, res: ServerResponse, n: number) => void;

/** A real HTTP upstream on a loopback port that answers each call as the test scripts it. */
export class ScriptedUpstream {
  readonly calls: UpstreamCall[] = [];
  private constructor(
    private readonly server: Server,
    public script: UpstreamScript,
  ) {}

  static async start(script: UpstreamScript): Promise<ScriptedUpstream> {
    const server = createServer();
    const upstream = new ScriptedUpstream(server, script);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const call = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
        upstream.calls.push(call);
        upstream.script(call, res, upstream.calls.length);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers with a JSON body. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** One SSE event carrying a chat.completion.chunk with this delta. */
export function chunkEvent(delta: object, finishReason: string | null = null, extra: object = {}): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 7, model: 'm', choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`;
}

export const COMPLETION = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello', reasoning_content: 'vendor' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  vendor_extra: { kept: true },
};

/** A proxy-mode service on a loopback port, with fast retries, recording into a temporary dir. */
export interface TestProxy {
  url: string;
  dir: string;
  recordingFile: string;
  registry: Registry;
  warnings: string[];
  records(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startProxy(input: ServiceConfigInput = {}): Promise<TestProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'rms-proxy-'));
  const recordingFile = join(dir, 'rec.jsonl');
  const config = resolveServiceConfig(
    {
      type: 'proxy',
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      requestTimeoutMs: 2000,
      ...(input.replayFile === undefined ? { recordingFile } : {}),
      ...input,
      retry: { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 20, ...input.retry },
    },
    {},
  );
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const registry = new Registry();
  const warnings: string[] = [];
  const log = {
    info: () => {},
    warn: (obj: object, msg: string) => warnings.push(`${msg} ${JSON.stringify(obj)}`),
    error: (obj: object, msg: string) => warnings.push(`${msg} ${JSON.stringify(obj)}`),
  };
  const handle = await registerProxyRoutes(app, config, { registry, log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    recordingFile,
    registry,
    warnings,
    async records() {
      const text = await readFile(recordingFile, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async close() {
      await app.close();
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs to the proxy's chat endpoint. */
export function post(proxy: TestProxy, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Waits until `check` holds (the recorder writes after the answer went out). */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The recording once it holds `count` lines. */
export function recordsOnce(proxy: TestProxy, count: number): Promise<Record<string, unknown>[]> {
  return eventually(async () => {
    const records = await proxy.records();
    return records.length >= count ? records : undefined;
  });
}

/** POSTs with node:http, which sends hop-by-hop headers that fetch refuses to send. */
export function rawPost(
  proxy: TestProxy,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(`${proxy.url}/v1/chat/completions`), { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
