/** A client that reads an answer as it arrives and may leave mid-way, as an agent that gives up would. */
import { createHash } from 'node:crypto';
import { request } from 'node:http';

export interface ReadAnswer {
  /** 0 when no answer came (the client left first, or the connection failed). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes of the body received. */
  bytes: number;
  /** SHA-256 (hex) of the body received. */
  sha256: string;
  /** The first `keepBytes` of the body. */
  head: Buffer;
  /** The body ended by itself (false: this client left, or the connection broke). */
  complete: boolean;
  ms: number;
}

export interface ReadOptions {
  /** Leave after this long from the request, answered or not (default 60 s). */
  maxMs?: number;
  /** Leave once this many bytes arrived. */
  maxBytes?: number;
  /** How much of the body to keep in `head` (default 64 KiB). */
  keepBytes?: number;
  headers?: Record<string, string>;
}

/** POSTs `body` to `url` and reads the answer until it ends or a limit passes; never rejects. */
export function postAndRead(url: string, body: string | Buffer, options: ReadOptions = {}): Promise<ReadAnswer> {
  const started = performance.now();
  const keep = options.keepBytes ?? 64 * 1024;
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  let status = 0;
  let headers: ReadAnswer['headers'] = {};
  return new Promise((resolve) => {
    let settled = false;
    const finish = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, headers, bytes, sha256: hash.digest('hex'), head: Buffer.concat(head), complete, ms: performance.now() - started });
    };
    const leave = (): void => {
      finish(false);
      req.destroy();
    };
    const timer = setTimeout(leave, options.maxMs ?? 60_000);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers } }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (kept < keep) {
          head.push(chunk.subarray(0, keep - kept));
          kept += Math.min(chunk.length, keep - kept);
        }
        if (options.maxBytes !== undefined && bytes >= options.maxBytes) leave();
      });
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
      res.on('close', () => finish(false));
    });
    req.on('error', () => finish(false));
    req.end(body);
  });
}
