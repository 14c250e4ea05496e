/**
 * The live page's three routes as plain `node:http` handlers, for the service to mount
 * (off by default: conversations are private and the service binds 0.0.0.0 in sandboxes):
 *
 *   GET /                 the page (HTML, its CSP also sent as a header)
 *   GET /session          the snapshot (JSON, see LiveSnapshot)
 *   GET /session/events   text/event-stream: `request`, `turn`, `state`, `reset` events with
 *                         ids; `?after=<cursor>` or the Last-Event-ID header resumes after an id
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveSession } from './live-session.js';
import { livePageHtml, pageCsp } from './page.js';

/** How often an idle event stream gets a comment line, so proxies and browsers keep it open. */
export const HEARTBEAT_MS = 15_000;

let cachedPage: Buffer | undefined;

/** Answers `GET /` with the live page. */
export function sendLivePage(res: ServerResponse): void {
  cachedPage ??= Buffer.from(livePageHtml(), 'utf8');
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': cachedPage.length,
    // frame-ancestors works only as a header: no other site may frame the page.
    'content-security-policy': `${pageCsp('live')}; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end(cachedPage);
}

/** Answers `GET /session` with the session's snapshot. */
export function sendSessionSnapshot(live: LiveSession, res: ServerResponse): void {
  const body = Buffer.from(JSON.stringify(live.snapshot()), 'utf8');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/**
 * Answers `GET /session/events` with the event stream; it ends when the client goes away.
 * A client that cannot keep up (its socket buffer over 8 MiB) is disconnected: its browser
 * reconnects with Last-Event-ID and catches up, or refetches the snapshot.
 */
export function streamSessionEvents(live: LiveSession, req: IncomingMessage, res: ServerResponse, heartbeatMs = HEARTBEAT_MS): void {
  const lastEventId = req.headers['last-event-id'];
  const after = (Array.isArray(lastEventId) ? lastEventId[0] : lastEventId) ?? new URL(req.url ?? '/', 'http://x').searchParams.get('after') ?? undefined;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const unsubscribe = live.subscribe(after, (event) => {
    res.write(`id: ${event.id}\nevent: ${event.event}\ndata: ${event.data}\n\n`);
    if (res.writableLength > 8 * 1024 * 1024) res.destroy();
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
  const done = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  res.on('close', done);
  req.on('close', done);
}
