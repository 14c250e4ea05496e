/**
 * Follows one log file for every waiter of a process: wakes on
 * directory events with a poll as safety net, scans only the bytes appended since the saved
 * offset (a partial last line only from where it was last searched), and recovers from
 * truncation, replacement and a log that disappears for a while (its directory deleted, or a
 * path it cannot open): it says so (`unavailable`), keeps looking, and follows the path again
 * once it can be read.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DEFAULT_POLL_INTERVAL_MS } from '../config/defaults.js';
import { openScanner, type LogScanner } from '../scanner/index.js';
import { RecordKind, type ScanResult } from '../scanner/types.js';

/** Why the follower went back to offset 0. */
export type ResetReason = 'truncated' | 'replaced';

export type RecordsListener = (batch: ScanResult, scanner: LogScanner) => void;
export type ResetListener = (reason: ResetReason) => void;
export type FollowerErrorListener = (err: unknown) => void;

/** Why the follower cannot read its log right now. */
export interface LogUnavailable {
  /** `missing`: no file at the path (or no directory); `unreadable`: something there that cannot be opened as the log. */
  reason: 'missing' | 'unreadable';
  /** The error of the last attempt to open it (for `unreadable`). */
  error?: unknown;
  /** When it became unavailable (epoch ms). */
  since: number;
}

/** Told when the log becomes unavailable (with why) and when it is readable again (undefined). */
export type AvailabilityListener = (unavailable: LogUnavailable | undefined) => void;

export interface LogFollowerOptions {
  /** The scanner to read with (the follower closes it on close()); default `openScanner(path)`. */
  scanner?: LogScanner;
  /** Safety-net poll for missed file events; default 100 ms, the reference's poll. */
  pollIntervalMs?: number;
  /** Where the first scan starts; default 0. */
  fromOffset?: number;
  /** Records per scan call; a long backlog is delivered in batches of at most this many; default 4096. */
  maxRecords?: number;
}

/** Records per scan of a follower: a long backlog reaches the listeners in batches of this many (a bare scan takes up to DEFAULT_MAX_RECORDS, scanner/arguments.ts). */
const BATCH_RECORDS = 4096;
/** Enough to cover the meta of the last line consumed: `{"timestamp": <ms>, "index": <n>}`. */
const TAIL_BYTES = 64;
const EMPTY_TAIL = Buffer.alloc(0);

/**
 * One follower per log file. Listeners receive each batch synchronously and must copy what
 * they keep: the batch's record array may be reused by the next scan. Timers and watchers
 * are unref'd, so a follower never keeps a process alive; a caller that must stay alive
 * while it waits holds its own handle (a timeout timer, a socket).
 */
export class LogFollower {
  readonly path: string;
  readonly scanner: LogScanner;
  readonly #pollIntervalMs: number;
  readonly #maxRecords: number;
  readonly #dir: string;
  readonly #dirName: string;
  readonly #name: string;
  readonly #recordListeners = new Set<RecordsListener>();
  readonly #resetListeners = new Set<ResetListener>();
  readonly #errorListeners = new Set<FollowerErrorListener>();
  readonly #availabilityListeners = new Set<AvailabilityListener>();
  #offset: number;
  /** `[offset, searchFrom)` was searched for a newline already (a partial last line). */
  #searchFrom: number | undefined;
  /** A file was open at some point: one that appears after the log was lost is a new file. */
  #hadFile = false;
  #unavailable: LogUnavailable | undefined;
  /** The owner wants the safety-net poll (resumePolling); an unavailable log is polled regardless. */
  #pollWanted = true;
  /** The directory the watcher was armed on, to re-arm when it is deleted and created again. */
  #watchedDir: { dev: number; ino: number } | undefined;
  /** The bytes just before the offset as they were consumed, to notice a rewrite that the size hides. */
  #tail: Buffer | undefined;
  #bytesScanned = 0;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #scanning = false;
  #rescan = false;
  #closed = false;

  constructor(path: string, options: LogFollowerOptions = {}) {
    this.path = path;
    this.scanner = options.scanner ?? openScanner(path);
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#maxRecords = options.maxRecords ?? BATCH_RECORDS;
    this.#offset = options.fromOffset ?? 0;
    this.#dir = dirname(path);
    this.#dirName = basename(this.#dir);
    this.#name = basename(path);
    // Open the file now if it exists, so that a replacement before the first wake is seen
    // as one instead of the new file being taken for the one we started on.
    this.#openLog();
    this.#armWatcher();
    this.#updateTimer();
  }

  /** Returns the saved offset: the start of the first line not yet delivered. */
  get offset(): number {
    return this.#offset;
  }

  /** Returns how many log bytes this follower has consumed since it started (for metrics). */
  get bytesScanned(): number {
    return this.#bytesScanned;
  }

  /** Returns why the log cannot be read right now, or undefined while it can. */
  get unavailable(): LogUnavailable | undefined {
    return this.#unavailable;
  }

  /** Returns whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribes to record batches; returns the unsubscribe function. */
  onRecords(listener: RecordsListener): () => void {
    return subscribe(this.#recordListeners, listener);
  }

  /** Subscribes to resets (the follower went back to offset 0); returns the unsubscribe function. */
  onReset(listener: ResetListener): () => void {
    return subscribe(this.#resetListeners, listener);
  }

  /**
   * Subscribes to the log becoming unavailable and readable again (a service answers agents
   * with a clear error meanwhile). Returns the unsubscribe function.
   */
  onAvailability(listener: AvailabilityListener): () => void {
    return subscribe(this.#availabilityListeners, listener);
  }

  /** Subscribes to scan errors (an unreadable log); the follower retries on the next wake. Returns the unsubscribe function. */
  onError(listener: FollowerErrorListener): () => void {
    return subscribe(this.#errorListeners, listener);
  }

  /** Scans to the end now, synchronously (for example right after this process appended). Never throws. */
  poke(): void {
    if (this.#closed) return;
    if (this.#scanning) {
      // A listener poked from inside a delivery: the running loop scans once more.
      this.#rescan = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#rescan = false;
        this.#scanToEnd();
      } while (this.#rescan && !this.#closed);
    } catch (err) {
      this.#emitError(err);
    } finally {
      this.#scanning = false;
    }
  }

  /**
   * Stops the safety-net poll; file events still wake the follower. For an owner with
   * nothing to wait for: an idle service then costs no timer wakes at all (ten a second,
   * times thousands of services on a host). A log that is unavailable is polled anyway, to
   * notice when it comes back.
   */
  pausePolling(): void {
    this.#pollWanted = false;
    this.#updateTimer();
  }

  /** Restarts the safety-net poll (the default state). */
  resumePolling(): void {
    this.#pollWanted = true;
    this.#updateTimer();
  }

  /** Stops watching and closes the scanner. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#updateTimer();
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#recordListeners.clear();
    this.#resetListeners.clear();
    this.#errorListeners.clear();
    this.#availabilityListeners.clear();
    this.scanner.close();
  }

  #updateTimer(): void {
    const wanted = !this.#closed && (this.#pollWanted || this.#unavailable !== undefined);
    if (wanted && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#onPoll(), this.#pollIntervalMs);
      this.#timer.unref();
    } else if (!wanted && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #onPoll(): void {
    // The directory may not have existed when we started, or was removed and re-created.
    this.#checkWatcher();
    this.poke();
  }

  /** Re-arms the watcher when there is none or its directory is no longer the one at the path. */
  #checkWatcher(): void {
    if (this.#watcher !== undefined && this.#watchedDir !== undefined) {
      try {
        const st = statSync(this.#dir);
        if (st.ino === this.#watchedDir.ino && st.dev === this.#watchedDir.dev) return;
      } catch {
        // Gone: the old watcher hears nothing any more.
      }
    }
    this.#armWatcher();
  }

  /**
   * Watches the DIRECTORY, not the file: a file watch follows the inode and goes deaf once
   * the file is replaced. Events are never counted (inotify merges them): each
   * one only means "scan to the end". A watch follows its directory's inode the same way: an
   * event naming the directory itself (it was deleted or moved) drops the watch, and the poll,
   * which runs while the log is unavailable, arms a new one.
   */
  #armWatcher(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#watchedDir = undefined;
    try {
      const watcher = watch(this.#dir, { persistent: false }, (_event, filename) => {
        if (filename === this.#dirName && this.#watcher === watcher) {
          watcher.close();
          this.#watcher = undefined;
        }
        if (filename === null || filename === this.#name || filename === this.#dirName) this.poke();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      const st = statSync(this.#dir);
      this.#watcher = watcher;
      this.#watchedDir = { dev: st.dev, ino: st.ino };
    } catch {
      // No directory yet: the poll keeps scanning and re-arms the watch.
    }
  }

  /**
   * Opens the log if it is not open (or was replaced); returns whether it can be scanned.
   * A file found after the log was lost is a new file: the follower starts again from 0.
   */
  #openLog(): boolean {
    const scanner = this.scanner;
    let replaced = false;
    try {
      if (scanner.isReplaced()) {
        replaced = true;
        scanner.reopen();
      }
    } catch {
      // Not openable: identity() below says why.
    }
    if (replaced) {
      // Reset listeners may re-create the log right here (the service reopens its own).
      this.#reset('replaced');
      this.#checkWatcher();
    } else if (this.#unavailable === undefined && this.#hadFile) {
      return true; // the file it had open is still the log
    }
    let unavailable: LogUnavailable | undefined;
    try {
      if (scanner.identity() === null) unavailable = { reason: 'missing', since: Date.now() };
    } catch (err) {
      unavailable = { reason: 'unreadable', error: err, since: Date.now() };
    }
    if (unavailable !== undefined) {
      this.#setUnavailable(unavailable);
      return false;
    }
    if (!replaced && this.#hadFile) this.#reset('replaced');
    this.#hadFile = true;
    this.#setUnavailable(undefined);
    return true;
  }

  #setUnavailable(unavailable: LogUnavailable | undefined): void {
    const was = this.#unavailable;
    if (was?.reason === unavailable?.reason) return;
    this.#unavailable = unavailable;
    this.#updateTimer();
    // An unreadable log is reported once, not at every poll.
    if (unavailable?.reason === 'unreadable') this.#emitError(unavailable.error);
    for (const listener of this.#availabilityListeners) {
      try {
        listener(unavailable);
      } catch (err) {
        this.#emitError(err);
      }
    }
  }

  #scanToEnd(): void {
    if (!this.#openLog()) return;
    const scanner = this.scanner;
    if (this.#tail !== undefined && !this.#tail.equals(this.#readTail(this.#offset))) {
      // Truncated and rewritten past our offset between two wakes: the size alone cannot tell.
      this.#reset('truncated');
    }
    for (;;) {
      const from = this.#offset;
      const batch = scanner.scan(from, { maxRecords: this.#maxRecords, searchFrom: this.#searchFrom });
      if (batch.size < from) {
        // Only fstat tells a truncation from an append (both arrive as `change`).
        this.#reset('truncated');
        continue;
      }
      this.#searchFrom = batch.searchedTo > batch.nextOffset ? batch.searchedTo : undefined;
      if (batch.nextOffset <= from) return;
      this.#offset = batch.nextOffset;
      this.#bytesScanned += batch.nextOffset - from;
      this.#tail = this.#readTail(batch.nextOffset);
      if (batch.count > 0) this.#deliver(batch);
      if (this.#closed || batch.nextOffset >= batch.size) return;
    }
  }

  /** The last TAIL_BYTES bytes before `end` (the end of the last consumed line, whose meta holds a timestamp and an index). */
  #readTail(end: number): Buffer {
    const start = Math.max(0, end - TAIL_BYTES);
    try {
      return this.scanner.readPayload({ kind: RecordKind.Unknown, index: -1, lineStart: start, payloadStart: start, payloadEnd: end, lineEnd: end });
    } catch {
      // Shorter than what we consumed, or gone: never equal to a tail we saved.
      return EMPTY_TAIL;
    }
  }

  #reset(reason: ResetReason): void {
    this.#offset = 0;
    this.#tail = undefined;
    this.#searchFrom = undefined;
    for (const listener of this.#resetListeners) {
      try {
        listener(reason);
      } catch (err) {
        this.#emitError(err);
      }
    }
  }

  #deliver(batch: ScanResult): void {
    for (const listener of this.#recordListeners) {
      try {
        listener(batch, this.scanner);
      } catch (err) {
        this.#emitError(err);
      }
    }
  }

  #emitError(err: unknown): void {
    for (const listener of this.#errorListeners) {
      try {
        listener(err);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }
}

/** Adds `listener` to `listeners`; returns the function that removes it. */
function subscribe<T>(listeners: Set<T>, listener: T): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
