/**
 * Follows one log file for every waiter of a process (SPEC sections 4 and 11): wakes on
 * directory events with a poll as safety net, scans only the bytes appended since the saved
 * offset, and recovers from truncation and replacement.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DEFAULT_POLL_INTERVAL_MS } from '../config/defaults.js';
import { openScanner, type LogScanner } from '../scanner/index.js';
import { RecordKind, type ScanResult } from '../scanner/types.js';

/** Why the follower went back to offset 0. */
export type ResetReason = 'truncated' | 'replaced';

export type RecordsListener = (batch: ScanResult, scanner: LogScanner) => void;
export type ResetListener = (reason: ResetReason) => void;
export type FollowerErrorListener = (err: unknown) => void;

export interface LogFollowerOptions {
  /** The scanner to read with (the follower closes it on close()); default `openScanner(path)`. */
  scanner?: LogScanner;
  /** Safety-net poll for missed file events; default 100 ms (SPEC section 2). */
  pollIntervalMs?: number;
  /** Where the first scan starts; default 0. */
  fromOffset?: number;
  /** Records per scan call; a long backlog is delivered in batches of at most this many. */
  maxRecords?: number;
}

const DEFAULT_MAX_RECORDS = 4096;
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
  readonly #name: string;
  readonly #recordListeners = new Set<RecordsListener>();
  readonly #resetListeners = new Set<ResetListener>();
  readonly #errorListeners = new Set<FollowerErrorListener>();
  #offset: number;
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
    this.#maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.#offset = options.fromOffset ?? 0;
    this.#dir = dirname(path);
    this.#name = basename(path);
    // Open the file now if it exists, so that a replacement before the first wake is seen
    // as one instead of the new file being taken for the one we started on.
    try {
      this.scanner.identity();
    } catch {
      // Unreadable for now: the first scan reports it through onError.
    }
    this.#armWatcher();
    this.resumePolling();
  }

  /** Returns the saved offset: the start of the first line not yet delivered. */
  get offset(): number {
    return this.#offset;
  }

  /** Returns how many log bytes this follower has consumed since it started (for metrics). */
  get bytesScanned(): number {
    return this.#bytesScanned;
  }

  /** Returns whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribes to record batches; returns the unsubscribe function. */
  onRecords(listener: RecordsListener): () => void {
    this.#recordListeners.add(listener);
    return () => this.#recordListeners.delete(listener);
  }

  /** Subscribes to resets (the follower went back to offset 0); returns the unsubscribe function. */
  onReset(listener: ResetListener): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /** Subscribes to scan errors (an unreadable log); the follower retries on the next wake. Returns the unsubscribe function. */
  onError(listener: FollowerErrorListener): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
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
   * times thousands of services on a host).
   */
  pausePolling(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Restarts the safety-net poll (the default state). */
  resumePolling(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setInterval(() => this.#onPoll(), this.#pollIntervalMs);
    this.#timer.unref();
  }

  /** Stops watching and closes the scanner. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pausePolling();
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#recordListeners.clear();
    this.#resetListeners.clear();
    this.#errorListeners.clear();
    this.scanner.close();
  }

  #onPoll(): void {
    // The directory may not have existed when we started, or was removed and re-created.
    if (!this.#watcher) this.#armWatcher();
    this.poke();
  }

  /**
   * Watches the DIRECTORY, not the file: a file watch follows the inode and goes deaf once
   * the file is replaced (SPEC 11). Events are never counted (inotify merges them): each
   * one only means "scan to the end".
   */
  #armWatcher(): void {
    try {
      const watcher = watch(this.#dir, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === this.#name) this.poke();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch {
      // No directory yet: the poll keeps scanning and re-arms the watch.
      this.#watcher = undefined;
    }
  }

  #scanToEnd(): void {
    const scanner = this.scanner;
    if (scanner.isReplaced()) {
      scanner.reopen();
      this.#reset('replaced');
    } else if (this.#tail !== undefined && !this.#tail.equals(this.#readTail(this.#offset))) {
      // Truncated and rewritten past our offset between two wakes: the size alone cannot tell.
      this.#reset('truncated');
    }
    for (;;) {
      const from = this.#offset;
      const batch = scanner.scan(from, { maxRecords: this.#maxRecords });
      if (batch.size < from) {
        // Only fstat tells a truncation from an append (both arrive as `change`).
        this.#reset('truncated');
        continue;
      }
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
