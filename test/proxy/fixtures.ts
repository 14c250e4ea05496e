import { createServer, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfigInput } from '../../src/config/resolve.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { collect, requireBuiltCli, spawnCli } from '../helpers/cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { freePort, listenOnLoopback } from '../helpers/loopback.js';
import { chunkText, usageChunk } from '../helpers/chat-completion.js';

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
    await listenOnLoopback(server);
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
  return `data: ${chunkText(delta, finishReason, extra)}\n\n`;
}

/** The SSE event that ends a stream with its usage. */
export function usageEvent(usage: object): string {
  return `data: ${JSON.stringify(usageChunk(usage))}\n\n`;
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
  const dir = makeTempDir('proxy');
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
    removeDir(dir);
    throw err;
  }
  return {
    url: server.url,
    dir,
    recordingFile,
    records: () => readJsonLines(recordingFile),
    logLines: () => readJsonLines(serviceLogFile),
    metrics: async () => (await fetch(`${server.url}/metrics`)).text(),
    async close() {
      await server.close();
      removeDir(dir);
    },
  };
}

/** The JSON lines of `file` (none while it does not exist). */
async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Answers with an event stream of `events` (SSE texts) and ends it. */
export function sse(res: ServerResponse, events: readonly string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(e);
  res.end();
}

/** An upstream answer that never ends: `chunk` again and again, as fast as the reader takes it (after `head`, unless a head went out). */
export function flood(res: ServerResponse, head: Record<string, string>, chunk: Buffer | string, status = 200): void {
  if (!res.headersSent) res.writeHead(status, head);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

/** POSTs `body` to `path` on the proxy. */
export function postTo(proxy: TestProxy, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The data of each event of an SSE text, parsed (`[DONE]` and comments left out). */
export function sseData(text: string): Record<string, unknown>[] {
  return text
    .split(/\n\n/)
    .map((event) => event.split('\n').find((line) => line.startsWith('data: '))?.slice('data: '.length))
    .filter((data): data is string => data !== undefined && data !== '[DONE]')
    .map((data) => JSON.parse(data) as Record<string, unknown>);
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

/**
 * POSTs `body` as JSON to `url` with node:http, for a test whose client leaves (`req.destroy()`):
 * after an aborted fetch, undici opens a spare connection that would hold the service's close.
 * @returns the request, its errors (the cut) ignored.
 */
export function leavingPost(url: string, body: unknown): ClientRequest {
  const req = httpRequest(new URL(url), { method: 'POST', headers: { 'content-type': 'application/json' } });
  req.on('error', () => {});
  req.end(JSON.stringify(body));
  return req;
}

/** Resolves once the first bytes of the answer to `req` have arrived. */
export async function firstBytes(req: ClientRequest): Promise<void> {
  const res = await new Promise<IncomingMessage>((resolve) => req.on('response', resolve));
  await new Promise((resolve) => res.once('data', resolve));
}

/** What an outbound proxy was asked to do: requests in absolute form, and CONNECT tunnels. */
export interface ProxiedCall {
  kind: 'forward' | 'connect';
  /** The absolute URL of a forwarded request, or the `host:port` of a tunnel. */
  target: string;
  headers: IncomingHttpHeaders;
}

/**
 * A real outbound HTTP proxy on a loopback port, as clusters put in front of their upstreams:
 * it forwards requests sent in absolute form (`POST http://host/path`) and opens CONNECT tunnels.
 */
export class OutboundProxy {
  readonly calls: ProxiedCall[] = [];
  /** TCP connections the proxy accepted. */
  connections = 0;
  private readonly tunnels = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OutboundProxy> {
    const server = createServer();
    const proxy = new OutboundProxy(server);
    server.on('connection', () => proxy.connections++);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      proxy.calls.push({ kind: 'forward', target: req.url ?? '', headers: req.headers });
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !name.startsWith('proxy-')));
      const out = httpRequest(req.url ?? '', { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      proxy.calls.push({ kind: 'connect', target: req.url ?? '', headers: req.headers });
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const socket of [client, upstream]) {
        proxy.tunnels.add(socket);
        socket.on('close', () => proxy.tunnels.delete(socket));
        socket.on('error', () => (socket === client ? upstream : client).destroy());
      }
    });
    await listenOnLoopback(server);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.tunnels) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The proxy service as its own process (the real CLI, `start --foreground`), whose memory a test can watch. */
export interface ProxyProcess {
  url: string;
  pid: number;
  dir: string;
  /** Resident set size now, bytes (from /proc). */
  rssBytes(): number;
  records(): Promise<Record<string, unknown>[]>;
  /** The service's own log lines (pino JSON). */
  logLines(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * Starts `rock model-service start --foreground` in proxy mode with a config file holding
 * `config` (YAML lines; host, port and recording_file are added), and waits for /health.
 */
export async function startProxyProcess(config: string[], env: NodeJS.ProcessEnv = {}): Promise<ProxyProcess> {
  requireBuiltCli();
  const dir = makeTempDir('proxy-process');
  const port = await freePort();
  const recordingFile = join(dir, 'rec.jsonl');
  const serviceLog = join(dir, 'service.log');
  const configFile = join(dir, 'service.yaml');
  writeFileSync(configFile, ['type: proxy', 'host: 127.0.0.1', `port: ${port}`, `recording_file: ${recordingFile}`, ...config].join('\n'));
  const child = spawnCli(['model-service', 'start', '--foreground', '--config-file', configFile], {
    cwd: dir,
    env: { ROCK_MODEL_SERVICE_DATA_DIR: join(dir, 'data'), ROCK_LOGGING_PATH: dir, ROCK_LOGGING_FILE_NAME: 'service.log', ...env },
  });
  const exited = collect(child, 600_000);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    removeDir(dir);
  };
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (child.exitCode !== null || i === 150) {
      const { stderr } = await exited.catch(() => ({ stderr: '' }));
      await stop();
      throw new Error(`the proxy service did not become healthy: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    dir,
    rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    records: () => readJsonLines(recordingFile),
    logLines: () => readJsonLines(serviceLog),
    close: stop,
  };
}
