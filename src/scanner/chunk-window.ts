/**
 * The TypeScript engine's view of a file: one reused buffer holding the bytes
 * `[base, base + length)`, filled with pread (`fs.readSync` at a position), never a
 * whole-file string. A read that comes back short means the file shrank: the bytes it
 * returned are the new end, never an error.
 */
import { readSync } from 'node:fs';
import { isBlank } from './line-classifier.js';

/** Reads `length` bytes at file `position` into `buf` from `into`; returns how many arrived (fewer at the file's end). */
export function readAt(fd: number, buf: Buffer, length: number, position: number, into = 0): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, into + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

export class ChunkWindow {
  readonly buf: Buffer;
  /** File offset of `buf[0]`. */
  base = 0;
  /** Valid bytes in `buf`. */
  length = 0;
  /** `buf[0, length)`: searches on it cannot run into stale bytes. */
  view: Buffer;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.view = this.buf.subarray(0, 0);
  }

  get capacity(): number {
    return this.buf.length;
  }

  get end(): number {
    return this.base + this.length;
  }

  /** Forgets the contents; the window becomes empty at `at`. */
  reset(at: number): void {
    this.base = at;
    this.length = 0;
    this.view = this.buf.subarray(0, 0);
  }

  /**
   * Makes the window start at `at` (keeping the bytes it already holds from there) and fills
   * it forwards, reading no further than `limit`. Returns the new limit: `limit`, or the
   * smaller end a short read revealed.
   */
  fillFrom(fd: number, at: number, limit: number): number {
    let keep = 0;
    if (at >= this.base && at < this.end) {
      keep = this.end - at;
      if (at > this.base) this.buf.copyWithin(0, at - this.base, this.length);
    }
    const want = Math.min(this.capacity - keep, limit - (at + keep));
    const got = want > 0 ? readAt(fd, this.buf, want, at + keep, keep) : 0;
    this.base = at;
    this.length = keep + got;
    this.view = this.buf.subarray(0, this.length);
    return got < want ? at + keep + got : limit;
  }

  /** Fills the window with up to `span` bytes just before `end`. Returns false when the file turned out shorter. */
  fillBefore(fd: number, end: number, span: number): boolean {
    const base = Math.max(0, end - Math.min(span, this.capacity));
    const got = readAt(fd, this.buf, end - base, base);
    this.base = base;
    this.length = got;
    this.view = this.buf.subarray(0, got);
    return got === end - base;
  }

  /** True when the file bytes `[from, to)` are all in the window. */
  holds(from: number, to: number): boolean {
    return from >= this.base && to <= this.end;
  }
}

/**
 * Returns the file offset of the last occurrence of `needle` inside the file bytes
 * `[from, to)`, or -1. Searches the window first when it holds `to`, then reads backwards
 * with `scratch`, re-reading `needle.length - 1` bytes at each step so that an occurrence
 * straddling two reads is still found.
 */
export function lastIndexInFile(
  fd: number,
  needle: Buffer,
  from: number,
  to: number,
  window: ChunkWindow,
  scratch: Buffer,
): number {
  const overlap = needle.length - 1;
  let hi = to;
  if (window.base < to && window.end >= to) {
    const lo = Math.max(from, window.base);
    const at = window.view.subarray(lo - window.base, to - window.base).lastIndexOf(needle);
    if (at >= 0) return lo + at;
    if (lo === from) return -1;
    hi = Math.min(to, window.base + overlap);
  }
  while (hi - from > overlap) {
    const lo = Math.max(from, hi - scratch.length);
    const got = readAt(fd, scratch, hi - lo, lo);
    const at = scratch.subarray(0, got).lastIndexOf(needle);
    if (at >= 0) return lo + at;
    if (lo === from) return -1;
    hi = lo + overlap;
  }
  return -1;
}

/** Returns true when the file bytes `[from, to)` hold only spaces, tabs and carriage returns (read with `scratch`). */
export function isBlankInFile(fd: number, from: number, to: number, scratch: Buffer): boolean {
  for (let at = from; at < to; ) {
    const got = readAt(fd, scratch, Math.min(scratch.length, to - at), at);
    if (got === 0 || !isBlank(scratch, 0, got)) return false;
    at += got;
  }
  return true;
}

/** Returns the file bytes `[from, to)` decoded as UTF-8, from the window when it holds them. */
export function textInFile(fd: number, from: number, to: number, window: ChunkWindow): string {
  if (window.holds(from, to)) return window.buf.toString('utf8', from - window.base, to - window.base);
  const bytes = Buffer.allocUnsafe(to - from);
  const got = readAt(fd, bytes, to - from, from);
  return bytes.toString('utf8', 0, got);
}
