/**
 * Event-driven waits for requests of one log: one LogFollower, started where the caller
 * stopped looking, routes each new request to the waiters of its index (a map, not a loop
 * per waiter); a session end releases every waiter with null.
 *
 * A replaced or truncated log is read again from its start. Its first request tells what
 * happened: request 1 means the service restarted and a new session numbers from 1 again, so
 * every wait for request 2 or later fails with LogReplacedError (that file's request N+1
 * belongs to another conversation); a later index means the same service went on writing
 * into a file someone truncated or replaced, and the waits go on. A wait for request 1 always
 * goes on: the `--index 0` turn starts a session, and the new one starts there.
 */
import { AbortedError, LogReplacedError, TimeoutError } from '../errors.js';
import { LogFollower, type ResetReason } from '../follower/index.js';
import type { LogScanner } from '../scanner/index.js';
import { F_INDEX, F_KIND, RECORD_STRIDE, RecordKind, recordAt, type ScanResult } from '../scanner/types.js';

export interface WaitOptions {
  /** Give up after this many milliseconds (TimeoutError). Default: wait without limit. */
  timeoutMs?: number;
  /** Give up when this signal aborts (AbortedError). */
  signal?: AbortSignal;
}

interface Waiter {
  /** null: the session ended instead. */
  resolve(bytes: Buffer | null): void;
  reject(err: Error): void;
}

/** The largest delay setInterval accepts; the timer only keeps the event loop alive. */
const KEEP_ALIVE_MS = 2 ** 31 - 1;

/** Waiters on one log file, served by one follower. */
export class RequestWaiters {
  private readonly byIndex = new Map<number, Set<Waiter>>();
  private follower: LogFollower | undefined;
  private unsubscribers: (() => void)[] = [];
  // The follower's watcher and poll are unref'd: a pending wait must still keep a CLI alive.
  private keepAlive: NodeJS.Timeout | undefined;
  private pending = 0;
  /** Set by a reset of the follower until the new file's first request is seen. */
  private resetBy: ResetReason | undefined;

  constructor(private readonly logFile: string) {}

  /**
   * Waits for request `index`, reading the log from `fromOffset` (where the caller's own look
   * at the log ended) when no follower runs yet.
   * @returns the request JSON's bytes as stored, or null when the session ended first.
   * @throws TimeoutError after `timeoutMs`, AbortedError when `signal` aborts or on close(),
   *   LogReplacedError when a new session starts in a replaced or truncated log while it waits
   *   for request 2 or later.
   */
  waitFor(index: number, fromOffset: number, options: WaitOptions): Promise<Buffer | null> {
    const { timeoutMs, signal } = options;
    if (signal?.aborted) return Promise.reject(abortedError(index, signal));
    return new Promise<Buffer | null>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.remove(index, waiter);
      };
      const waiter: Waiter = {
        resolve: (bytes) => {
          settle();
          resolve(bytes);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      const onAbort = (): void => waiter.reject(abortedError(index, signal!));
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            waiter.reject(
              new TimeoutError(
                `timed out after ${timeoutMs / 1000} s waiting for request ${index} in ${this.logFile}; ` +
                  'the agent has not sent it yet: retry the same command, or raise --timeout',
                timeoutMs,
              ),
            ),
          timeoutMs,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.add(index, waiter);
      this.ensureFollower(fromOffset).poke();
    });
  }

  /** Rejects every pending wait with AbortedError and stops following the log. */
  close(): void {
    for (const set of [...this.byIndex.values()]) {
      for (const waiter of [...set]) waiter.reject(new AbortedError('the ModelClient was closed while waiting for a request'));
    }
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    this.follower?.close();
    this.follower = undefined;
  }

  private ensureFollower(fromOffset: number): LogFollower {
    if (this.follower === undefined) {
      this.follower = new LogFollower(this.logFile, { fromOffset });
      this.unsubscribers = [
        this.follower.onRecords((batch, scanner) => this.route(batch, scanner)),
        this.follower.onReset((reason) => {
          this.resetBy = reason;
        }),
      ];
    }
    return this.follower;
  }

  private route(batch: ScanResult, scanner: LogScanner): void {
    const r = batch.records;
    // Same answer as a fresh look at the log: a session end anywhere in the batch is the latest
    // request-or-session-end line (the service writes no request after it).
    for (let i = 0; i < batch.count; i++) {
      if (r[i * RECORD_STRIDE + F_KIND] === RecordKind.SessionEnd) {
        for (const set of [...this.byIndex.values()]) for (const waiter of [...set]) waiter.resolve(null);
        return;
      }
    }
    for (let i = 0; i < batch.count; i++) {
      if (r[i * RECORD_STRIDE + F_KIND] !== RecordKind.Request) continue;
      const index = r[i * RECORD_STRIDE + F_INDEX]!;
      if (this.resetBy !== undefined) this.checkNewFile(this.resetBy, index);
      const set = this.byIndex.get(index);
      if (set === undefined) continue;
      const bytes = scanner.readPayload(recordAt(batch, i));
      for (const waiter of [...set]) waiter.resolve(bytes);
    }
  }

  /** Called with the first request of a file the follower started again from 0 (replaced or truncated). */
  private checkNewFile(reason: ResetReason, firstIndex: number): void {
    this.resetBy = undefined;
    if (firstIndex !== 1) return;
    const what = reason === 'replaced' ? 'replaced by a new file' : 'truncated';
    for (const [index, set] of [...this.byIndex]) {
      if (index === 1) continue;
      const err = new LogReplacedError(
        `${this.logFile} was ${what} and a new session began in it while waiting for request ${index}: ` +
          'the model service restarted, so this session is over; start again from index 0',
      );
      for (const waiter of [...set]) waiter.reject(err);
    }
  }

  private add(index: number, waiter: Waiter): void {
    let set = this.byIndex.get(index);
    if (set === undefined) this.byIndex.set(index, (set = new Set()));
    set.add(waiter);
    if (this.pending++ === 0) this.keepAlive = setInterval(() => undefined, KEEP_ALIVE_MS);
  }

  private remove(index: number, waiter: Waiter): void {
    const set = this.byIndex.get(index);
    if (set === undefined || !set.delete(waiter)) return;
    if (set.size === 0) this.byIndex.delete(index);
    if (--this.pending === 0) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}

function abortedError(index: number, signal: AbortSignal): AbortedError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new AbortedError(`the wait for request ${index} was aborted${reason}`);
}
