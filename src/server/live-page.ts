/**
 * The live session page (off by default: conversations are private, and in sandboxes the
 * service binds 0.0.0.0): `GET /` the page, `GET /session` the snapshot, `GET /session/events`
 * the updates, all fed by the service's own follower. The trace code loads only when it is on.
 */
import type { ServerResponse } from 'node:http';
import type { LogFollower } from '../follower/index.js';
import type { HttpService } from '../http/http-service.js';

/**
 * Mounts the three routes on `http`.
 * @returns what stops the page: its event streams end and the session detaches from the follower.
 */
export async function mountLivePage(http: HttpService, follower: LogFollower, logFile: string): Promise<() => void> {
  const { LiveSession, sendLivePage, sendSessionSnapshot, streamSessionEvents } = await import('../trace/index.js');
  const live = new LiveSession(logFile);
  live.attach(follower);
  // Event streams never end on their own; a stopping service ends them instead of waiting out its grace period.
  const streams = new Set<ServerResponse>();
  http.route('GET', '/', ({ res }) => sendLivePage(res));
  http.route('GET', '/session', ({ res }) => sendSessionSnapshot(live, res));
  http.route('GET', '/session/events', ({ req, res }) => {
    streams.add(res);
    res.once('close', () => streams.delete(res));
    streamSessionEvents(live, req, res);
  });
  return () => {
    live.close();
    for (const res of streams) res.end();
  };
}
