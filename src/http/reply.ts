/**
 * Every answer the service writes goes through here: JSON bodies, and errors in the shape of
 * the API the route speaks, with the headers clients act on (`x-should-retry: false` for what
 * a retry cannot fix; the request id is set when the request arrives).
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { InternalError, ModelServiceError, errorSpec } from '../errors.js';
import type { ErrorBodyShape } from '../wire/error-bodies.js';

/** What an error means to a client. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  retryable: boolean;
}

/** Returns the answer for any error; one that is not ours is an internal error whose details stay in the service log. */
export function errorAnswer(err: unknown): ErrorAnswer {
  const e = err instanceof ModelServiceError ? err : new InternalError();
  return { status: e.httpStatus, code: e.code, message: e.message, retryable: errorSpec(e.code).retry };
}

/** Writes a whole JSON answer. Does nothing when the answer has begun or the client is gone. */
export function sendJson(res: ServerResponse, status: number, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
}

/** Writes `err` as a whole answer in `shape`; the headers say whether a retry can help. @returns what the client was told. */
export function sendError(res: ServerResponse, err: unknown, shape: ErrorBodyShape, headers: OutgoingHttpHeaders = {}): ErrorAnswer {
  const answer = errorAnswer(err);
  sendErrorAnswer(res, answer, shape, headers);
  return answer;
}

/**
 * Writes `answer` as a whole answer in `shape`, with `x-should-retry: false` when a retry cannot
 * help (for an answer whose status is not its code's own: an upstream's, or a recorded one).
 * @returns the body written.
 */
export function sendErrorAnswer(res: ServerResponse, answer: ErrorAnswer, shape: ErrorBodyShape, headers: OutgoingHttpHeaders = {}): string {
  const body = shape(answer.status, answer.code, answer.message);
  sendJson(res, answer.status, body, retryHeaders(answer, headers));
  return body;
}

/** Adds `x-should-retry: false` to `headers` when a retry cannot help. */
export function retryHeaders(answer: ErrorAnswer, headers: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return answer.retryable ? headers : { ...headers, 'x-should-retry': 'false' };
}
