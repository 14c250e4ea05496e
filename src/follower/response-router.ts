/**
 * Routes response lines to the requests waiting for them, by index, for every concurrent
 * waiter of one service, through one IndexedWaiters.
 *
 * The follower's poll runs only while someone waits; file events wake it either way.
 *
 * Each record is routed on its own: a response whose payload is not UTF-8 or not JSON fails
 * only the waiter of its index (BadResponseError), never the other records of its batch.
 *
 * A truncation or replacement of the log does not fail anyone: the follower rescans the new
 * file from its start and pending waiters keep waiting, because the runtime may write their
 * responses again. The session-ended state is sticky: once SESSION_END was seen, a new file
 * does not revive the session. (A retried call re-attaching to its turn is the service's
 * business: its turn keeps waiting here; see src/server/turns.ts.)
 */
import { AbortedError, BadResponseError, InvalidArgumentError, InvalidUtf8Error, SessionEndedError } from '../errors.js';
import { F_INDEX, F_KIND, RECORD_STRIDE, RecordKind, recordAt, type LogRecord, type ScanResult } from '../scanner/types.js';
import { IndexedWaiters, type WaitOptions } from './indexed-waiters.js';
import type { LogFollower } from './log-follower.js';

export type { WaitOptions } from './indexed-waiters.js';

export class ResponseRouter {
  readonly #follower: LogFollower;
  readonly #waiters: IndexedWaiters<string>;
  readonly #unsubscribe: () => void;
  #sessionEnded = false;

  constructor(follower: LogFollower) {
    this.#follower = follower;
    this.#waiters = new IndexedWaiters<string>({
      what: 'response',
      timeoutMessage: (index, timeoutMs) =>
        `no response with index ${index} arrived within ${timeoutMs} ms; ` + 'the runtime must answer with anti-call-llm, or raise the request timeout',
      // File events keep the follower current; the poll is a safety net for waiters only.
      onBusy: (busy) => (busy ? follower.resumePolling() : follower.pausePolling()),
    });
    this.#unsubscribe = follower.onRecords((batch) => this.#route(batch));
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
    if (this.#waiters.has(index)) {
      return Promise.reject(new InvalidArgumentError(`a request with index ${index} is already waiting for its response`));
    }
    if (this.#sessionEnded) return Promise.reject(new SessionEndedError());
    return this.#waiters.wait(index, options);
  }

  /**
   * Fails the waiter of `index` with `err`, if one waits (a cheaper cancel than an
   * AbortSignal, for a service that cancels one waiter per dropped request).
   * @returns whether a waiter was failed.
   */
  cancel(index: number, err: Error): boolean {
    return this.#waiters.reject(index, err);
  }

  /** Marks the session ended and fails every pending waiter with SessionEndedError. */
  endSession(): void {
    this.#sessionEnded = true;
    this.failAll(new SessionEndedError());
  }

  /** Fails every pending waiter with `err` (for example when the service stops). */
  failAll(err: Error): void {
    this.#waiters.rejectAll(err);
  }

  /** Stops routing and fails pending waiters with AbortedError. Does not close the follower. */
  close(): void {
    this.#unsubscribe();
    this.failAll(new AbortedError('the service is stopping; retry the request when it is back'));
  }

  #route(batch: ScanResult): void {
    const r = batch.records;
    for (let i = 0; i < batch.count; i++) {
      const b = i * RECORD_STRIDE;
      const kind = r[b + F_KIND];
      if (kind === RecordKind.Response) {
        const index = r[b + F_INDEX]!;
        if (this.#waiters.has(index)) this.#answer(index, recordAt(batch, i));
      } else if (kind === RecordKind.SessionEnd) {
        this.endSession();
      }
    }
  }

  #answer(index: number, record: LogRecord): void {
    try {
      this.#waiters.resolve(index, this.#payload(index, record));
    } catch (err) {
      // Only this waiter fails: the rest of the batch is routed as usual.
      this.#waiters.reject(index, err as Error);
    }
  }

  /** The response's payload text. @throws BadResponseError when it is not UTF-8 or not JSON; the scanner's read errors. */
  #payload(index: number, record: LogRecord): string {
    let text: string;
    try {
      text = this.#follower.scanner.readPayloadText(record);
    } catch (err) {
      if (err instanceof InvalidUtf8Error) throw badResponse(index, this.#follower.path, 'is not valid UTF-8', err);
      throw err;
    }
    try {
      // The agent parses the answer as JSON: text that is not JSON must not reach it with a 200.
      JSON.parse(text);
    } catch (err) {
      throw badResponse(index, this.#follower.path, 'is not valid JSON', err);
    }
    return text;
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
