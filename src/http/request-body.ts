/**
 * Reads a request body whole, within three bounds: its size (the body limit, checked against
 * content-length before a byte is read and again as bytes arrive), the time it may take to
 * arrive, and the bytes that all bodies in flight may hold together. Without the last two,
 * sixteen connections that each send 60 MiB and never finish held a gigabyte for as long as
 * they liked.
 */
import type { IncomingMessage } from 'node:http';
import { BodyTimeoutError, BodyTooLargeError, BusyError, BadHttpRequestError } from '../errors.js';
import { clearLongTimeout, setLongTimeout } from '../time/long-timeout.js';

export interface BodyLimits {
  /** Largest body in bytes. */
  maxBytes: number;
  /** Longest time from the handler's first read to the body's last byte. */
  timeoutMs: number;
  /** Shared by every body in flight. */
  budget: BodyBudget;
}

/** Bytes held by bodies being received, across every connection of one service. */
export class BodyBudget {
  #held = 0;
  constructor(readonly maxBytes: number) {}

  /** Returns the bytes held now. */
  get held(): number {
    return this.#held;
  }

  /** Takes `n` bytes; returns false (taking nothing) when that would pass the budget. */
  take(n: number): boolean {
    if (this.#held + n > this.maxBytes) return false;
    this.#held += n;
    return true;
  }

  /** Gives `n` bytes back. */
  give(n: number): void {
    this.#held -= n;
  }
}

/**
 * Reads the whole body of `req`.
 * @returns the body bytes (an empty Buffer for no body).
 * @throws BodyTooLargeError (413), BodyTimeoutError (408), BusyError (503), BadHttpRequestError
 *   (the connection broke, or a content-length that the bytes did not match). The caller must
 *   not reuse the connection after a throw: the rest of the body was not read.
 */
export function readRequestBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limits.maxBytes) return Promise.reject(new BodyTooLargeError());
  if (length === 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let held = 0;
    const finish = (err: Error | undefined): void => {
      clearLongTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      limits.budget.give(held);
      held = 0;
      if (err) {
        req.pause();
        reject(err);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
      }
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limits.maxBytes) return finish(new BodyTooLargeError());
      if (!limits.budget.take(chunk.length)) return finish(new BusyError());
      held += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (err: Error): void => finish(new BadHttpRequestError(`the request body could not be read (${err.message})`));
    const onAborted = (): void => finish(new BadHttpRequestError('the client closed the connection before its body was complete'));
    const timer = setLongTimeout(
      () => finish(new BodyTimeoutError(`the request body did not arrive whole within ${limits.timeoutMs / 1000} s; send it again`)),
      limits.timeoutMs,
    );
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}
