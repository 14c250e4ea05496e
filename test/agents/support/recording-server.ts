/**
 * A loopback HTTP server that records every request a coding agent sends (method, path, query,
 * headers, raw body) and answers each with whatever the current `handler` writes. It stands in
 * for the model API while we learn what the real agents send and which answers they accept.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  /** Milliseconds since the server started. */
  at: number;
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string without `?` ('' when none). */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body as received, UTF-8. */
  rawBody: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  body: unknown;
}

/** Answers one recorded request; it may write slowly (streams) and must end the response. */
export type RecordingHandler = (request: RecordedRequest, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

const notFound: RecordingHandler = (request, res) => {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no handler for ${request.method} ${request.path}` } }));
};

export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  handler: RecordingHandler = notFound;
  private readonly server: Server;
  private readonly started = Date.now();
  private readonly open = new Set<ServerResponse>();

  private constructor(server: Server) {
    this.server = server;
  }

  /** Starts a recording server on 127.0.0.1 (a free port unless given); resolves once it listens. */
  static async start(port = 0): Promise<RecordingServer> {
    let self: RecordingServer | undefined;
    const server = createServer((req, res) => self!.take(req, res));
    self = new RecordingServer(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return self;
  }

  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The requests to `path` (query ignored), in arrival order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Ends every open answer and stops listening. */
  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private take(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      const cut = url.indexOf('?');
      let body: unknown;
      try {
        body = rawBody === '' ? undefined : JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const request: RecordedRequest = {
        seq: this.requests.length + 1,
        at: Date.now() - this.started,
        method: req.method ?? '',
        path: cut < 0 ? url : url.slice(0, cut),
        query: cut < 0 ? '' : url.slice(cut + 1),
        headers: { ...req.headers },
        rawBody,
        body,
      };
      this.requests.push(request);
      this.open.add(res);
      res.once('close', () => this.open.delete(res));
      Promise.resolve(this.handler(request, res, req)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`recording handler failed: ${String(error)}`);
      });
    });
  }
}
