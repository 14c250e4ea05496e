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
import { AbortedError, LogReplacedError } from '../errors.js';
import { LogFollower, type ResetReason } from '../follower/index.js';
import { IndexedWaiters, type WaitOptions } from '../follower/indexed-waiters.js';
import type { LogScanner } from '../scanner/index.js';
import { F_INDEX, F_KIND, RECORD_STRIDE, RecordKind, recordAt, type ScanResult } from '../scanner/types.js';

export type { WaitOptions } from '../follower/indexed-waiters.js';

/** Waiters on one log file, served by one follower. */
export class RequestWaiters {
  /** null: the session ended instead. The follower's watcher and poll are unref'd: a pending wait keeps a CLI alive. */
  private readonly waiters: IndexedWaiters<Buffer | null>;
  private follower: LogFollower | undefined;
  private unsubscribers: (() => void)[] = [];
  /** Set by a reset of the follower until the new file's first request is seen. */
  private resetBy: ResetReason | undefined;

  constructor(private readonly logFile: string) {
    this.waiters = new IndexedWaiters<Buffer | null>({
      what: 'request',
      keepAlive: true,
      timeoutMessage: (index, timeoutMs) =>
        `timed out after ${timeoutMs / 1000} s waiting for request ${index} in ${logFile}; ` +
        'the agent has not sent it yet: retry the same command, or raise --timeout',
    });
  }

  /**
   * Waits for request `index`, reading the log from `fromOffset` (where the caller's own look
   * at the log ended) when no follower runs yet.
   * @returns the request JSON's bytes as stored, or null when the session ended first.
   * @throws TimeoutError after `timeoutMs`, AbortedError when `signal` aborts or on close(),
   *   LogReplacedError when a new session starts in a replaced or truncated log while it waits
   *   for request 2 or later.
   */
  waitFor(index: number, fromOffset: number, options: WaitOptions): Promise<Buffer | null> {
    const waiting = this.waiters.wait(index, options);
    this.ensureFollower(fromOffset).poke();
    return waiting;
  }

  /** Rejects every pending wait with AbortedError and stops following the log. */
  close(): void {
    this.waiters.rejectAll(new AbortedError('the ModelClient was closed while waiting for a request'));
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
        this.waiters.resolveAll(null);
        return;
      }
    }
    for (let i = 0; i < batch.count; i++) {
      if (r[i * RECORD_STRIDE + F_KIND] !== RecordKind.Request) continue;
      const index = r[i * RECORD_STRIDE + F_INDEX]!;
      if (this.resetBy !== undefined) this.checkNewFile(this.resetBy, index);
      if (this.waiters.has(index)) this.waiters.resolve(index, scanner.readPayload(recordAt(batch, i)));
    }
  }

  /** Called with the first request of a file the follower started again from 0 (replaced or truncated). */
  private checkNewFile(reason: ResetReason, firstIndex: number): void {
    this.resetBy = undefined;
    if (firstIndex !== 1) return;
    const what = reason === 'replaced' ? 'replaced by a new file' : 'truncated';
    for (const index of this.waiters.indexes()) {
      if (index === 1) continue;
      this.waiters.reject(
        index,
        new LogReplacedError(
          `${this.logFile} was ${what} and a new session began in it while waiting for request ${index}: ` +
            'the model service restarted, so this session is over; start again from index 0',
        ),
      );
    }
  }
}
