import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceConfigInput } from '../../src/config/resolve.js';
import { startServer, type RunningServer } from '../../src/server/start.js';

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

/** A proxy-mode service (the real startServer) on a loopback port, with fast retries, recording into a temporary dir. */
export interface TestProxy {
  url: string;
  dir: string;
  recordingFile: string;
  records(): Promise<Record<string, unknown>[]>;
  /** The service's own log lines (pino JSON). */
  logLines(): Promise<Record<string, unknown>[]>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export async function startProxy(input: ServiceConfigInput = {}): Promise<TestProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'rms-proxy-'));
  const recordingFile = join(dir, 'rec.jsonl');
  const serviceLogFile = join(dir, 'service.log');
  let server: RunningServer;
  try {
    server = await startServer({
      type: 'proxy',
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      serviceLogFile,
      logLevel: 'info',
      requestTimeoutMs: 2000,
      ...(input.replayFile === undefined ? { recordingFile } : {}),
      ...input,
      retry: { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 20, ...input.retry },
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const readLines = async (file: string) =>
    (await readFile(file, 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    url: server.url,
    dir,
    recordingFile,
    records: () => readLines(recordingFile),
    logLines: () => readLines(serviceLogFile),
    metrics: async () => (await fetch(`${server.url}/metrics`)).text(),
    async close() {
      await server.close();
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
