import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidUtf8Error } from '../errors.js';
import { decodeUtf8 } from '../protocol/index.js';
import type { RecordTruncation } from '../wire/chat-stream-aggregator.js';
import { isJsonObject } from '../wire/json-object.js';
import { clientResponseHeaders } from './hop-by-hop.js';
import { RawJson } from './recorder.js';
import type { StreamRecord } from './stream-records.js';
import { AttemptFailure, type UpstreamAttempt } from './upstream-client.js';

/** What reading an answer's body gave: bytes sent to the client, the whole body (not a stream), what to record, and the failure if it broke. */
export interface BodyResult {
  sent: number;
  whole?: Buffer;
  response: unknown;
  failure?: AttemptFailure;
  /** What the record leaves out of the answer. */
  truncated?: RecordTruncation;
  /** The answer's `usage` (a stream's last one). */
  usage?: unknown;
  /** Stream events left out of the record because they were not JSON objects. */
  skipped?: number;
  /** The status the client got, when it is not the upstream's (an upstream answer that cannot become the agent's). */
  status?: number;
  /** Why the call failed although it was answered (an error event in the stream, an answer that cannot be translated). */
  error?: string;
  /** What the agent got, in its own API, when the upstream was spoken to in Chat Completions. */
  agentResponse?: unknown;
  /** True when a failure after the first byte was told in the stream, which then ended: the connection need not be cut. */
  ended?: boolean;
}

/** How an upstream answer that is not retried reaches the client, and what of it goes into the record. */
export interface Delivery {
  /** Reads the answer and answers the client; a failure with nothing sent (`sent` 0) may still be retried. */
  deliver(attempt: UpstreamAttempt, upstream: IncomingMessage, res: ServerResponse): Promise<BodyResult>;
}

/** The bounds of what the proxy holds of one answer. */
export interface AnswerLimits {
  /** The largest whole answer read (response_limit). */
  responseLimitBytes: number;
  /** The most bytes of a stream folded into its record (record_max_bytes). */
  recordMaxBytes: number;
}

/**
 * The answer goes to the client unchanged: a stream as it arrives (read on the side by the
 * `record` it gets), a whole answer once it is complete.
 * @returns the delivery.
 */
export function passThrough(limits: AnswerLimits, record: (maxBytes: number) => StreamRecord): Delivery {
  return {
    async deliver(attempt, upstream, res) {
      if (isEventStream(upstream)) return passStream(attempt, upstream, res, record(limits.recordMaxBytes));
      const body = await readWhole(attempt, upstream, limits.responseLimitBytes);
      if (body.failure !== undefined || body.whole === undefined) return body;
      const out = clientResponseHeaders(upstream.headers);
      out['content-length'] = body.whole.length;
      res.writeHead(upstream.statusCode ?? 502, out);
      res.end(body.whole);
      // Read for the record only once the client has its answer.
      return { ...body, ...recordedBody(body.whole) };
    },
  };
}

/** @returns whether the upstream answers with a server-sent event stream. */
export function isEventStream(upstream: IncomingMessage): boolean {
  return (upstream.headers['content-type'] ?? '').startsWith('text/event-stream');
}

/**
 * Reads a whole (non-stream) answer of at most `limitBytes`; nothing reaches the client until
 * it is complete, so any failure may be retried. A larger answer (declared or read) stops the
 * attempt at once, dropping what was read: an endless body otherwise held gigabytes.
 */
export function readWhole(attempt: UpstreamAttempt, upstream: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  const declared = Number(upstream.headers['content-length']);
  if (declared > limitBytes) {
    const failure = tooLarge(`the upstream declared an answer of ${declared} bytes, more than response_limit (${limitBytes} bytes); the proxy did not read it`);
    attempt.abort(failure);
    return Promise.resolve({ sent: 0, failure, response: null, truncated: cutAt(0, limitBytes) });
  }
  return new Promise((resolve) => {
    let parts: Buffer[] = [];
    let received = 0;
    const settle = (result: BodyResult) => {
      upstream.off('data', onData);
      parts = [];
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        const failure = tooLarge(`the upstream's answer passed response_limit (${limitBytes} bytes); the proxy stopped reading it there`);
        attempt.abort(failure);
        settle({ sent: 0, failure, response: null, truncated: cutAt(limitBytes, limitBytes) });
        return;
      }
      parts.push(chunk);
    };
    upstream.on('data', onData);
    upstream.on('end', () => {
      const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, received);
      upstream.off('data', onData);
      resolve({ sent: 0, whole, response: null });
    });
    upstream.on('error', (err) => settle({ sent: 0, failure: attempt.failureOf(err), response: null }));
  });
}

/**
 * Reads an unwanted answer (one that will be retried) to its end without keeping it, so its
 * connection goes back to the pool; past `limitBytes` the connection is closed instead.
 */
export function discardBody(attempt: UpstreamAttempt, upstream: IncomingMessage, limitBytes: number): void {
  let received = 0;
  upstream.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limitBytes) attempt.abort();
  });
}

function tooLarge(message: string): AttemptFailure {
  return new AttemptFailure('too_large', message, { permanent: true });
}

/** `atBytes`: where the proxy stopped reading. */
function cutAt(atBytes: number, limitBytes: number): RecordTruncation {
  return { reason: 'the answer passed response_limit: the client got 502 and the record has no response', at_bytes: atBytes, limit_bytes: limitBytes };
}

/**
 * Passes a stream through as it arrives, read on the side by `record` (which keeps a bounded
 * part of it). The client's head is written with the first body byte, so a stream that fails
 * before then can still be retried. The client's pace sets the upstream's (backpressure), so
 * an endless stream costs a bounded amount of memory.
 */
export function passStream(attempt: UpstreamAttempt, upstream: IncomingMessage, res: ServerResponse, record: StreamRecord): Promise<BodyResult> {
  let sent = 0;
  const begin = () => {
    if (!res.headersSent) res.writeHead(upstream.statusCode ?? 200, clientResponseHeaders(upstream.headers));
  };
  const outcome = (failure?: AttemptFailure): BodyResult => {
    record.end();
    const error = record.streamError === undefined ? {} : { error: `the stream carried an error event: ${record.streamError}` };
    return { sent, failure, response: record.result(), truncated: record.truncated, usage: record.usage, skipped: record.skipped, ...error };
  };
  return new Promise((resolve) => {
    const onDrain = () => upstream.resume();
    res.on('drain', onDrain);
    upstream.on('data', (chunk: Buffer) => {
      begin();
      sent += chunk.length;
      if (!res.write(chunk)) upstream.pause();
      record.push(chunk);
    });
    upstream.on('end', () => {
      res.off('drain', onDrain);
      begin();
      res.end();
      resolve(outcome());
    });
    upstream.on('error', (err) => {
      res.off('drain', onDrain);
      resolve(outcome(attempt.failureOf(err)));
    });
  });
}

/** What a whole answer puts into the record, and its usage. */
export interface RecordedBody {
  /** Its JSON bytes untouched when it is JSON, else its text. */
  response: unknown;
  usage?: unknown;
  /** Set when the answer was not UTF-8: the record holds U+FFFD for its invalid bytes. */
  truncated?: RecordTruncation;
}

/**
 * @returns the answer as it goes into the record. An answer that is not UTF-8 reached the
 *   client unchanged, but a JSONL line must be UTF-8: its invalid bytes are recorded as U+FFFD
 *   (what any UTF-8 decoder shows) and the record says so.
 */
export function recordedBody(body: Buffer): RecordedBody {
  let text: string;
  let bytes = body;
  let truncated: RecordTruncation | undefined;
  try {
    text = decodeUtf8(body);
  } catch (err) {
    if (!(err instanceof InvalidUtf8Error)) throw err;
    text = body.toString('utf8');
    bytes = Buffer.from(text, 'utf8');
    truncated = { reason: 'the answer is not valid UTF-8: the client got its bytes unchanged, the record has U+FFFD for each invalid sequence' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { response: text, truncated };
  }
  return { response: new RawJson(bytes), usage: isJsonObject(parsed) ? parsed.usage : undefined, truncated };
}
