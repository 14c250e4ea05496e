/**
 * The live page served the way the service will serve it: a `node:http` server that mounts the
 * three routes on a LiveSession fed by a LogFollower of one log file. The service's own wiring
 * (`src/http/`) does the same with its follower.
 */
import { createServer, type Server } from 'node:http';
import { LogFollower } from '../../../src/follower/log-follower.js';
import { sendLivePage, sendSessionSnapshot, streamSessionEvents } from '../../../src/trace/live-routes.js';
import { LiveSession, type LiveSessionOptions } from '../../../src/trace/live-session.js';
import { listenOnLoopback } from '../../helpers/loopback.js';

export interface LivePageServer {
  url: string;
  live: LiveSession;
  follower: LogFollower;
  close(): Promise<void>;
}

/** Serves the live page of the log at `logFile` on a loopback port. */
export async function serveLivePage(logFile: string, options: LiveSessionOptions & { heartbeatMs?: number } = {}): Promise<LivePageServer> {
  const follower = new LogFollower(logFile, { pollIntervalMs: 50 });
  const live = new LiveSession(logFile, options);
  live.attach(follower);
  follower.poke();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/') {
      sendLivePage(res);
    } else if (path === '/session') {
      sendSessionSnapshot(live, res);
    } else if (path === '/session/events') {
      streamSessionEvents(live, req, res, options.heartbeatMs);
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/`,
    live,
    follower,
    async close() {
      live.close();
      follower.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
