/**
 * Routes response lines to the requests waiting for them, by index, for every concurrent
 * waiter of one service (SPEC section 4), through one IndexedWaiters.
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
 *
 * Orphans (SPEC 4 "Answers, retries, streams"): a call whose wait ended without a response
 * (its agent left, or it was answered 504) can be re-attached by a retry. orphan(N) makes the
 * router remember where response N is, or will be, in the log: the location only (numbers),
 * never the payload, which is read from the log when a retry claims it. A few recent
 * responses that nobody waited for are remembered the same way, so an orphan() that comes a
 * moment after the response was routed still finds it.
 */
import { AbortedError, BadResponseError, InvalidArgumentError, InvalidUtf8Error, SessionEndedError } from '../errors.js';
import { F_INDEX, F_KIND, RECORD_STRIDE, RecordKind, recordAt, type LogRecord, type ScanResult } from '../scanner/types.js';
import { IndexedWaiters, type WaitOptions } from './indexed-waiters.js';
import type { LogFollower } from './log-follower.js';

export type { WaitOptions } from './indexed-waiters.js';

export interface ResponseRouterOptions {
  /** How many orphaned calls are remembered (the oldest is forgotten first); default 64. */
  maxOrphans?: number;
}

const DEFAULT_MAX_ORPHANS = 64;
/** Responses nobody waited for whose location is kept for a late orphan() call. */
const UNCLAIMED_KEPT = 64;

export class ResponseRouter {
  readonly #follower: LogFollower;
  readonly #waiters: IndexedWaiters<string>;
  readonly #unsubscribe: (() => void)[];
  readonly #maxOrphans: number;
  /** Orphaned index → where its response is in the log; null until it arrives. Oldest first. */
  readonly #orphans = new Map<number, LogRecord | null>();
  /** Index → where a response that nobody waited for is; oldest first. */
  readonly #unclaimed = new Map<number, LogRecord>();
  #sessionEnded = false;

  constructor(follower: LogFollower, options: ResponseRouterOptions = {}) {
    this.#follower = follower;
    this.#maxOrphans = options.maxOrphans ?? DEFAULT_MAX_ORPHANS;
    if (!Number.isSafeInteger(this.#maxOrphans) || this.#maxOrphans < 0) {
      throw new InvalidArgumentError(`maxOrphans must be a whole number >= 0, got ${String(options.maxOrphans)}`);
    }
    this.#waiters = new IndexedWaiters<string>({
      what: 'response',
      timeoutMessage: (index, timeoutMs) =>
        `no response with index ${index} arrived within ${timeoutMs} ms; ` + 'the runtime must answer with anti-call-llm, or raise the request timeout',
      // File events keep the follower current; the poll is a safety net for waiters only.
      onBusy: (busy) => (busy ? follower.resumePolling() : follower.pausePolling()),
    });
    this.#unsubscribe = [
      follower.onRecords((batch) => this.#route(batch)),
      // Locations in a file that was truncated or replaced mean nothing: the rescan from 0 finds them again.
      follower.onReset(() => {
        for (const index of this.#orphans.keys()) this.#orphans.set(index, null);
        this.#unclaimed.clear();
      }),
    ];
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
   * line, so that no response can slip past between the append and the registration. An
   * orphaned index whose response is already in the log is answered at once, even after the
   * session ended.
   * @returns the response payload text exactly as stored in the log (valid UTF-8 and JSON).
   * @throws SessionEndedError (at once when the session already ended), TimeoutError,
   *   AbortedError, InvalidArgumentError when a waiter for `index` already exists,
   *   BadResponseError when the response line's payload is not UTF-8 or not JSON.
   */
  waitFor(index: number, options: WaitOptions = {}): Promise<string> {
    if (this.#waiters.has(index)) {
      return Promise.reject(new InvalidArgumentError(`a request with index ${index} is already waiting for its response`));
    }
    const kept = this.#orphans.get(index);
    if (kept) {
      try {
        return Promise.resolve(this.#claim(index, kept));
      } catch (err) {
        return Promise.reject(err);
      }
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

  /**
   * Marks `index` orphaned: its call's wait ended without a response, and a retry may come
   * back for it. Its response is remembered (its place in the log) when it arrives, or when
   * it arrived a moment ago unclaimed. At most `maxOrphans` are kept; the oldest is forgotten.
   * @returns false when a waiter for `index` is pending (then it is no orphan).
   */
  orphan(index: number): boolean {
    if (this.#waiters.has(index)) return false;
    const location = this.#unclaimed.get(index) ?? this.#orphans.get(index) ?? null;
    this.#unclaimed.delete(index);
    this.#orphans.delete(index);
    this.#orphans.set(index, location);
    if (this.#orphans.size > this.#maxOrphans) this.#orphans.delete(this.#orphans.keys().next().value!);
    return true;
  }

  /** Returns whether `index` is an orphan not yet claimed by a retry. */
  isOrphan(index: number): boolean {
    return this.#orphans.has(index);
  }

  /**
   * Claims the response of orphan `index` if it is in the log (the orphan is then forgotten).
   * @returns its payload text, or undefined when it has not arrived or `index` is no orphan
   *   (waitFor(index) then waits for it).
   * @throws BadResponseError when the payload is not UTF-8 or not JSON.
   */
  takeOrphanResponse(index: number): string | undefined {
    const kept = this.#orphans.get(index);
    return kept ? this.#claim(index, kept) : undefined;
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
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
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
        else this.#keep(index, recordAt(batch, i));
      } else if (kind === RecordKind.SessionEnd) {
        this.endSession();
      }
    }
  }

  /** Remembers where a response that nobody waits for is: for its orphan, or for a late orphan() call. */
  #keep(index: number, record: LogRecord): void {
    if (this.#orphans.has(index)) {
      this.#orphans.set(index, record);
      return;
    }
    this.#unclaimed.delete(index);
    this.#unclaimed.set(index, record);
    if (this.#unclaimed.size > UNCLAIMED_KEPT) this.#unclaimed.delete(this.#unclaimed.keys().next().value!);
  }

  #answer(index: number, record: LogRecord): void {
    this.#orphans.delete(index);
    try {
      this.#waiters.resolve(index, this.#payload(index, record));
    } catch (err) {
      // Only this waiter fails: the rest of the batch is routed as usual.
      this.#waiters.reject(index, err as Error);
    }
  }

  #claim(index: number, record: LogRecord): string {
    this.#orphans.delete(index);
    return this.#payload(index, record);
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
