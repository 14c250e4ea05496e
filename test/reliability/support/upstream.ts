/** A fake upstream model on a loopback port for proxy-mode scenarios: each call is answered by the scenario's handler. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type UpstreamHandler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

export interface Upstream {
  /** The base URL a proxy rule names (`http://127.0.0.1:<port>/v1`). */
  readonly baseUrl: string;
  /** How many calls reached it. */
  readonly calls: number;
  /** Swaps the handler for later calls. */
  answer(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

/** Starts an upstream that answers every call with `handler`, once the call's body has arrived. */
export async function startUpstream(handler: UpstreamHandler): Promise<Upstream> {
  let current = handler;
  let calls = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      calls++;
      current(req, Buffer.concat(parts), res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get calls() {
      return calls;
    },
    answer(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Writes `next()` to `res` for as long as the peer reads and `next` gives bytes (null ends the
 * body), respecting backpressure; resolves with the bytes written once the body ended or the
 * peer left.
 */
export function writeEndlessly(res: ServerResponse, next: () => Buffer | null): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve(written);
    };
    res.on('close', finish);
    const pump = (): void => {
      while (!done) {
        const chunk = next();
        if (chunk === null) {
          res.end(finish);
          return;
        }
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}
