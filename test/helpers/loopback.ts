/** Loopback ports for tests: a free one for a child to take, or one a server of ours listens on. */
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';

/** Returns a port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `server` on a port of 127.0.0.1 the kernel picks. @returns the port. @throws the listen error. */
export function listenOnLoopback(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
