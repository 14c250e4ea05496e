/**
 * Routes response lines to the requests waiting for them, by index, for every concurrent
 * waiter of one service (SPEC section 4). Waiters live in a map keyed by index, so a batch
 * costs one lookup per record, not one pass per waiter.
 *
 * The follower's poll runs only while someone waits; file events wake it either way.
 *
 * Each record is routed on its own: a response whose payload is not UTF-8 or not JSON fails
 * only the waiter of its index (BadResponseError), never the other records of its batch.
 *
 * A truncation or replacement of the log does not fail anyone: the follower rescans the new
 * file from its start and pending waiters keep waiting, because the runtime may write their
 * responses again. The session-ended state is sticky: once SESSION_END was seen, a new file
 * does not revive the session.
 */
import { AbortedError, BadResponseError, InvalidArgumentError, InvalidUtf8Error, ModelServiceError, SessionEndedError, TimeoutError } from '../errors.js';
import { F_INDEX, F_KIND, RECORD_STRIDE, RecordKind, recordAt, type LogRecord, type ScanResult } from '../scanner/types.js';
import type { LogScanner } from '../scanner/index.js';
import type { LogFollower } from './log-follower.js';

export interface WaitOptions {
  /** Cancels the wait: rejects with the signal's reason when it is a ModelServiceError, else with AbortedError. */
  signal?: AbortSignal;
  /** Rejects with TimeoutError after this many milliseconds; default: no limit. */
  timeoutMs?: number;
}

interface Waiter {
  resolve(payload: string): void;
  reject(err: Error): void;
}

export class ResponseRouter {
  readonly #follower: LogFollower;
  readonly #waiters = new Map<number, Waiter>();
  readonly #unsubscribe: () => void;
  #sessionEnded = false;

  constructor(follower: LogFollower) {
    this.#follower = follower;
    this.#unsubscribe = follower.onRecords((batch, scanner) => this.#route(batch, scanner));
    // File events keep the follower current; the poll is a safety net for waiters only.
    follower.pausePolling();
  }

  /** Returns how many requests are waiting for their response. */
  get pending(): number {
    return this.#waiters.size;
  }

  /** Returns whether a SESSION_END line was seen (or endSession() was called). */
  get sessionEnded(): boolean {
    return this.#sessionEnded;
  }

  /**
   * Registers a waiter for the response of `index`. Register BEFORE appending the request
   * line, so that no response can slip past between the append and the registration.
   * @returns the response payload text exactly as stored in the log (valid UTF-8 and JSON).
   * @throws SessionEndedError (at once when the session already ended), TimeoutError,
   *   AbortedError, InvalidArgumentError when a waiter for `index` already exists,
   *   BadResponseError when the response line's payload is not UTF-8 or not JSON.
   */
  waitFor(index: number, options: WaitOptions = {}): Promise<string> {
    if (this.#sessionEnded) return Promise.reject(new SessionEndedError());
    if (this.#waiters.has(index)) {
      return Promise.reject(new InvalidArgumentError(`a request with index ${index} is already waiting for its response`));
    }
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<string>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => settle(() => reject(abortReason(signal!)));
      const settle = (finish: () => void): void => {
        if (this.#waiters.get(index) !== waiter) return;
        this.#waiters.delete(index);
        if (this.#waiters.size === 0) this.#follower.pausePolling();
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const waiter: Waiter = {
        resolve: (payload) => settle(() => resolve(payload)),
        reject: (err) => settle(() => reject(err)),
      };
      this.#waiters.set(index, waiter);
      if (this.#waiters.size === 1) this.#follower.resumePolling();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            waiter.reject(
              new TimeoutError(
                `no response with index ${index} arrived within ${timeoutMs} ms; ` +
                  'the runtime must answer with anti-call-llm, or raise the request timeout',
                timeoutMs,
              ),
            ),
          timeoutMs,
        );
      }
    });
  }

  /**
   * Fails the waiter of `index` with `err`, if one waits (a cheaper cancel than an
   * AbortSignal, for a service that cancels one waiter per dropped request).
   * @returns whether a waiter was failed.
   */
  cancel(index: number, err: Error): boolean {
    const waiter = this.#waiters.get(index);
    waiter?.reject(err);
    return waiter !== undefined;
  }

  /** Marks the session ended and fails every pending waiter with SessionEndedError. */
  endSession(): void {
    this.#sessionEnded = true;
    this.failAll(new SessionEndedError());
  }

  /** Fails every pending waiter with `err` (for example when the service stops). */
  failAll(err: Error): void {
    for (const waiter of [...this.#waiters.values()]) waiter.reject(err);
  }

  /** Stops routing and fails pending waiters with AbortedError. Does not close the follower. */
  close(): void {
    this.#unsubscribe();
    this.failAll(new AbortedError('the service is stopping; retry the request when it is back'));
  }

  #route(batch: ScanResult, scanner: LogScanner): void {
    const r = batch.records;
    for (let i = 0; i < batch.count; i++) {
      const b = i * RECORD_STRIDE;
      const kind = r[b + F_KIND];
      if (kind === RecordKind.Response) {
        const index = r[b + F_INDEX]!;
        const waiter = this.#waiters.get(index);
        if (waiter) this.#answer(waiter, index, scanner, recordAt(batch, i));
      } else if (kind === RecordKind.SessionEnd) {
        this.endSession();
      }
    }
  }

  #answer(waiter: Waiter, index: number, scanner: LogScanner, record: LogRecord): void {
    let text: string;
    try {
      text = scanner.readPayloadText(record);
    } catch (err) {
      // Only this waiter fails: the rest of the batch is routed as usual.
      waiter.reject(err instanceof InvalidUtf8Error ? badResponse(index, this.#follower.path, 'is not valid UTF-8', err) : (err as Error));
      return;
    }
    try {
      // The agent parses the answer as JSON: text that is not JSON must not reach it with a 200.
      JSON.parse(text);
    } catch (err) {
      waiter.reject(badResponse(index, this.#follower.path, 'is not valid JSON', err));
      return;
    }
    waiter.resolve(text);
  }
}

function badResponse(index: number, log: string, what: string, cause: unknown): BadResponseError {
  return new BadResponseError(
    index,
    `the runtime's response ${index} in ${log} ${what}, so it cannot answer this call; ` +
      'fix the runtime so that it writes a JSON response, then send the request again',
    { cause },
  );
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof ModelServiceError
    ? signal.reason
    : new AbortedError('the request was cancelled before its response arrived');
}
