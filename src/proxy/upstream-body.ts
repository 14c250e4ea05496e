import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientResponseHeaders } from './hop-by-hop.js';
import type { Logger } from '../log/logger.js';
import { RawJson } from './recorder.js';
import { ChatStreamAggregator } from '../wire/chat-stream-aggregator.js';
import type { AttemptFailure, UpstreamAttempt } from './upstream-client.js';

/** What reading an answer's body gave: bytes sent to the client, the whole body (not a stream), what to record, and the failure if it broke. */
export interface BodyResult {
  sent: number;
  whole?: Buffer;
  response: unknown;
  failure?: AttemptFailure;
}

/** @returns whether the upstream answers with a server-sent event stream. */
export function isEventStream(upstream: IncomingMessage): boolean {
  return (upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
}

/** Reads a whole (non-stream) answer; nothing reaches the client until it is complete, so any failure may be retried. */
export function readWhole(attempt: UpstreamAttempt, upstream: IncomingMessage): Promise<BodyResult> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    upstream.on('data', (chunk: Buffer) => parts.push(chunk));
    upstream.on('end', () => {
      const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      resolve({ sent: 0, whole, response: null });
    });
    upstream.on('error', (err) => resolve({ sent: 0, failure: attempt.failureOf(err), response: null }));
  });
}

/**
 * Passes a stream through as it arrives, aggregating it on the side. The client's head is
 * written with the first body byte, so a stream that fails before then can still be retried.
 */
export function passStream(attempt: UpstreamAttempt, upstream: IncomingMessage, res: ServerResponse, log: Logger): Promise<BodyResult> {
  const aggregator = new ChatStreamAggregator();
  let sent = 0;
  const begin = () => {
    if (!res.headersSent) res.writeHead(upstream.statusCode ?? 200, clientResponseHeaders(upstream.headers));
  };
  return new Promise((resolve) => {
    const onDrain = () => upstream.resume();
    res.on('drain', onDrain);
    upstream.on('data', (chunk: Buffer) => {
      begin();
      sent += chunk.length;
      if (!res.write(chunk)) upstream.pause();
      aggregator.push(chunk);
    });
    upstream.on('end', () => {
      res.off('drain', onDrain);
      begin();
      res.end();
      aggregator.end();
      if (aggregator.skipped > 0) log.warn({ skipped: aggregator.skipped }, 'stream events that are not JSON were passed on but left out of the record');
      resolve({ sent, response: aggregator.result() });
    });
    upstream.on('error', (err) => {
      res.off('drain', onDrain);
      aggregator.end();
      resolve({ sent, failure: attempt.failureOf(err), response: aggregator.result() });
    });
  });
}

/** @returns the answer as it goes into the record: its JSON bytes untouched when it is JSON, else its text. */
export function recordedBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
    return new RawJson(body);
  } catch {
    return text;
  }
}
