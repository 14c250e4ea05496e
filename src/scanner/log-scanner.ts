/**
 * A scanner bound to one log path: the file handling (lazy open, replacement, payload reads)
 * around whichever ScanEngine loaded. One read descriptor, opened when the file exists, so
 * that a follower can poll a log that the service has not created yet.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { InvalidArgumentError, LogNotFoundError, LogReplacedError, ScannerClosedError } from '../errors.js';
import { describeFileType } from '../log-file/append.js';
import { decodeUtf8 } from '../protocol/json-text.js';
import { checkKindMask, checkLimits, checkOffset } from './arguments.js';
import { getScanEngine } from './load.js';
import type { LogRecord, ScanEngine, ScanOptions, ScanResult } from './types.js';

/** Device and inode of an open log, and its size when asked. */
export interface LogIdentity {
  dev: number;
  ino: number;
  size: number;
}

export interface LogScanner {
  readonly kind: 'native' | 'ts';
  readonly path: string;
  /** Scans complete lines from `offset`; a missing file scans as empty (count 0, size 0). */
  scan(offset: number, options?: ScanOptions): ScanResult;
  /** The latest complete line (before `before`) whose kind is in `kindMask`; null when none, or the file is missing. */
  findLast(kindMask: number, before?: number): LogRecord | null;
  /** The payload bytes of a request or response record, read with one pread. */
  readPayload(record: LogRecord): Buffer;
  /** The payload as text (strict UTF-8). */
  readPayloadText(record: LogRecord): string;
  /** The open descriptor's identity; null when the path did not exist at open. */
  identity(): LogIdentity | null;
  /** True when the path now names another inode, or is gone, while a descriptor is open. */
  isReplaced(): boolean;
  /** Drops the descriptor and opens the path again (after replacement or re-creation). */
  reopen(): void;
  close(): void;
}

const EMPTY = new Float64Array(0);

/** A path that names nothing: no such file, or a directory on the way is a file now. */
function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

class FileLogScanner implements LogScanner {
  readonly kind: 'native' | 'ts';
  readonly path: string;
  private readonly engine: ScanEngine;
  private fd: number | null = null;
  private closed = false;

  constructor(path: string, engine: ScanEngine) {
    this.path = path;
    this.engine = engine;
    this.kind = engine.kind;
  }

  /** The open descriptor, opening the path if it exists now; null while it does not. */
  private descriptor(): number | null {
    if (this.closed) {
      throw new ScannerClosedError(`the scanner of ${this.path} is closed; open a new one with openScanner()`);
    }
    if (this.fd === null) {
      let fd: number;
      try {
        // Non-blocking: opening a fifo for reading would otherwise wait for a writer, for ever.
        fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
      const st = fstatSync(fd);
      if (!st.isFile()) {
        closeSync(fd);
        throw new LogNotFoundError(`${this.path} is ${describeFileType(st)}, not a regular file, so it cannot be the log; remove it, or point the service at another data dir`);
      }
      this.fd = fd;
    }
    return this.fd;
  }

  scan(offset: number, options?: ScanOptions): ScanResult {
    const fd = this.descriptor();
    if (fd !== null) return this.engine.scan(fd, offset, options);
    checkOffset(offset);
    checkLimits(options);
    return { records: EMPTY, count: 0, nextOffset: offset, size: 0, searchedTo: offset };
  }

  findLast(kindMask: number, before?: number): LogRecord | null {
    const fd = this.descriptor();
    if (fd !== null) return this.engine.findLast(fd, kindMask, before);
    checkKindMask(kindMask);
    if (before !== undefined) checkOffset(before, 'before');
    return null;
  }

  readPayload(record: LogRecord): Buffer {
    const start = checkOffset(record.payloadStart, 'payloadStart');
    const length = checkOffset(record.payloadEnd, 'payloadEnd') - start;
    if (length < 0) throw new InvalidArgumentError(`the record's payloadEnd (${record.payloadEnd}) is before its payloadStart (${start}); pass a record from scan() or findLast()`);
    const fd = this.descriptor();
    if (fd === null) {
      throw new LogNotFoundError(`cannot read a payload: the log ${this.path} does not exist; scan it again once it has been created`);
    }
    const bytes = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, bytes, got, length - got, start + got);
      if (n === 0) {
        throw new LogReplacedError(
          `the log ${this.path} ends at byte ${start + got}, inside a payload that should end at ${start + length}: it was truncated or replaced; reopen and scan it from the start`,
        );
      }
      got += n;
    }
    return bytes;
  }

  readPayloadText(record: LogRecord): string {
    return decodeUtf8(this.readPayload(record));
  }

  identity(): LogIdentity | null {
    const fd = this.descriptor();
    if (fd === null) return null;
    const st = fstatSync(fd);
    return { dev: st.dev, ino: st.ino, size: st.size };
  }

  isReplaced(): boolean {
    if (this.fd === null || this.closed) return false;
    let now;
    try {
      now = statSync(this.path);
    } catch (err) {
      if (isMissing(err)) return true;
      throw err;
    }
    const open = fstatSync(this.fd);
    return now.ino !== open.ino || now.dev !== open.dev;
  }

  reopen(): void {
    this.release();
    this.descriptor();
  }

  close(): void {
    this.release();
    this.closed = true;
  }

  private release(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }
}

/** Returns a scanner for the log at `path` (the file may not exist yet), using `engine` or the one getScanEngine() picks; throws what getScanEngine throws. */
export function openScanner(path: string, options: { engine?: ScanEngine } = {}): LogScanner {
  return new FileLogScanner(path, options.engine ?? getScanEngine());
}
