/**
 * "Wait for record N, with a timeout and an abort signal", once, for both sides of the log:
 * the service's ResponseRouter waits for responses, the client's RequestWaiters for requests.
 * Waits live in a map keyed by index, so delivering a batch costs one lookup per record, not
 * a pass over every waiter.
 */
import { AbortedError, ModelServiceError, TimeoutError } from '../errors.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../time/long-timeout.js';

export interface WaitOptions {
  /**
   * Rejects with TimeoutError after this many milliseconds; default: no limit. Any length
   * works: timers past 2^31-1 ms (about 24.8 days) are chained instead of firing at once.
   */
  timeoutMs?: number;
  /** Cancels the wait: rejects with the signal's reason when it is a ModelServiceError, else with AbortedError. */
  signal?: AbortSignal;
}

export interface IndexedWaitersOptions {
  /** What is waited for, as messages name it: `response` or `request`. */
  what: string;
  /** The message of the TimeoutError of a wait for `index` that lasted `timeoutMs`. */
  timeoutMessage(index: number, timeoutMs: number): string;
  /** Told when the first wait starts (true) and when the last one ends (false). */
  onBusy?(busy: boolean): void;
  /**
   * Holds the event loop open while a wait is pending. For a CLI whose only handles (the
   * follower's watcher and poll) are unref'd; a service has its sockets for that.
   */
  keepAlive?: boolean;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** The largest delay setInterval accepts; the timer only keeps the event loop alive. */
const KEEP_ALIVE_MS = 2 ** 31 - 1;

/** Pending waits for values of type T, keyed by index; several may wait for one index. */
export class IndexedWaiters<T> {
  readonly #options: IndexedWaitersOptions;
  readonly #byIndex = new Map<number, Set<Waiter<T>>>();
  #size = 0;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(options: IndexedWaitersOptions) {
    this.#options = options;
  }

  /** Returns how many waits are pending. */
  get size(): number {
    return this.#size;
  }

  /** Returns whether a wait for `index` is pending. */
  has(index: number): boolean {
    return this.#byIndex.has(index);
  }

  /** Returns the indexes someone waits for. */
  indexes(): number[] {
    return [...this.#byIndex.keys()];
  }

  /**
   * Waits for the value of `index`.
   * @returns what resolve(index, …) delivers.
   * @throws TimeoutError after `timeoutMs`; the signal's ModelServiceError or AbortedError when
   *   it aborts; whatever reject(index, …) or rejectAll(…) delivers.
   */
  wait(index: number, options: WaitOptions = {}): Promise<T> {
    const { signal, timeoutMs } = options;
    if (signal?.aborted) return Promise.reject(this.#abortReason(index, signal));
    return new Promise<T>((resolve, reject) => {
      let timer: LongTimeout | undefined;
      const onAbort = (): void => waiter.reject(this.#abortReason(index, signal!));
      const settle = (): boolean => {
        if (!this.#remove(index, waiter)) return false;
        clearLongTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const waiter: Waiter<T> = {
        resolve: (value) => {
          if (settle()) resolve(value);
        },
        reject: (err) => {
          if (settle()) reject(err);
        },
      };
      this.#add(index, waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setLongTimeout(() => waiter.reject(new TimeoutError(this.#options.timeoutMessage(index, timeoutMs), timeoutMs)), timeoutMs);
      }
    });
  }

  /** Delivers `value` to every wait for `index`; returns whether there was one. */
  resolve(index: number, value: T): boolean {
    const set = this.#byIndex.get(index);
    if (set === undefined) return false;
    for (const waiter of [...set]) waiter.resolve(value);
    return true;
  }

  /** Fails every wait for `index` with `err`; returns whether there was one. */
  reject(index: number, err: Error): boolean {
    const set = this.#byIndex.get(index);
    if (set === undefined) return false;
    for (const waiter of [...set]) waiter.reject(err);
    return true;
  }

  /** Delivers `value` to every pending wait. */
  resolveAll(value: T): void {
    for (const index of this.indexes()) this.resolve(index, value);
  }

  /** Fails every pending wait with `err`. */
  rejectAll(err: Error): void {
    for (const index of this.indexes()) this.reject(index, err);
  }

  #add(index: number, waiter: Waiter<T>): void {
    let set = this.#byIndex.get(index);
    if (set === undefined) this.#byIndex.set(index, (set = new Set()));
    set.add(waiter);
    if (this.#size++ > 0) return;
    if (this.#options.keepAlive) this.#keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS);
    this.#options.onBusy?.(true);
  }

  /** Returns false when the waiter was already settled. */
  #remove(index: number, waiter: Waiter<T>): boolean {
    const set = this.#byIndex.get(index);
    if (set === undefined || !set.delete(waiter)) return false;
    if (set.size === 0) this.#byIndex.delete(index);
    if (--this.#size > 0) return true;
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    this.#options.onBusy?.(false);
    return true;
  }

  #abortReason(index: number, signal: AbortSignal): Error {
    if (signal.reason instanceof ModelServiceError) return signal.reason;
    const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
    return new AbortedError(`the wait for ${this.#options.what} ${index} was aborted${why}`);
  }
}
