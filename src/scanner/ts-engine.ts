/**
 * The TypeScript scan engine: pread into one reused chunk, `Buffer.indexOf` for newlines
 * (memchr speed), no whole-file strings. Memory stays bounded by the chunk even for lines of
 * any length: a line that runs past the chunk is streamed through to its newline, and its
 * end marker is then searched backwards from there (the meta is short, so that is near).
 */
import { fstatSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { SESSION_END_BYTES } from '../protocol/markers.js';
import { checkKindMask, checkLimits, checkOffset } from './arguments.js';
import { ChunkWindow, isBlankInFile, lastIndexInFile, readAt, textInFile } from './chunk-window.js';
import {
  classifyLine,
  Head,
  HEAD_BYTES,
  headOf,
  isBlank,
  markersOf,
  metaIndex,
  possibleKinds,
} from './line-classifier.js';
import { RECORD_STRIDE, RecordKind, recordAt, writeRecord, type LogRecord, type ScanEngine, type ScanOptions, type ScanResult } from './types.js';

/**
 * The default chunk. 256 KiB to 8 MiB scanned the bench log alike here (within this shared
 * machine's noise); 1 MiB keeps the syscalls per GiB low and the memory small.
 */
export const TS_CHUNK_BYTES = 1 << 20;
/** Backward marker searches in lines longer than a chunk read this much at a time. */
const SEARCH_BYTES = 64 * 1024;
/**
 * findLast's first read backwards; each further read doubles up to the chunk, so that
 * finding a line near the end costs microseconds, not a full chunk copy.
 */
const FIRST_BACKWARD_BYTES = 16 * 1024;
/** A scan result starts with room for this many records: a large typed array costs microseconds to allocate. */
const FIRST_RECORDS = 16;
/** Chunks smaller than this could not hold a line's head plus a marker. */
const MIN_CHUNK_BYTES = 64;

const NEWLINE = 0x0a;

export interface TsEngineOptions {
  /** Bytes read per pread (default TS_CHUNK_BYTES). Tests use tiny chunks to reach every boundary case. */
  chunkBytes?: number;
}

/** Grows the flat record array as lines arrive; one allocation per doubling. */
class RecordSink {
  records: Float64Array;
  count = 0;
  constructor(expected: number) {
    this.records = new Float64Array(expected * RECORD_STRIDE);
  }
  /** Returns the slot for the next record, growing (replacing) `records` when full: read `records` after calling this. */
  next(): number {
    const o = this.count * RECORD_STRIDE;
    if (o + RECORD_STRIDE > this.records.length) {
      const grown = new Float64Array(Math.max(this.records.length * 2, RECORD_STRIDE * FIRST_RECORDS));
      grown.set(this.records);
      this.records = grown;
    }
    return o;
  }
}

/** Returns a TypeScript engine with its own buffers (allocated on first use); throws InvalidArgumentError for a chunk under 64 bytes. */
export function createTsEngine(options: TsEngineOptions = {}): ScanEngine {
  const chunkBytes = options.chunkBytes ?? TS_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES) {
    throw new InvalidArgumentError(`chunkBytes must be an integer of at least ${MIN_CHUNK_BYTES}, got ${chunkBytes}`);
  }
  let window: ChunkWindow | undefined;
  let scratch: Buffer | undefined;
  const head = Buffer.allocUnsafe(HEAD_BYTES);
  const one = new Float64Array(RECORD_STRIDE);

  const windowFor = (): ChunkWindow => (window ??= new ChunkWindow(chunkBytes));
  const scratchFor = (): Buffer => (scratch ??= Buffer.allocUnsafe(Math.min(chunkBytes, SEARCH_BYTES)));

  /**
   * Classifies the complete line `[lineStart, contentEnd)` (contentEnd is its `\n`) whose
   * head is already known, reading what it needs from the file; writes its record at out[o].
   */
  function classifyLongLine(fd: number, lineHead: Head, lineStart: number, contentEnd: number, w: ChunkWindow, out: Float64Array, o: number): void {
    let kind: RecordKind = RecordKind.Unknown;
    let index = -1;
    let payloadStart = lineStart;
    let payloadEnd = lineStart;
    if (lineHead === Head.SessionEndCandidate) {
      if (isBlankInFile(fd, lineStart + SESSION_END_BYTES.length, contentEnd, scratchFor())) kind = RecordKind.SessionEnd;
    } else if (lineHead !== Head.Unknown) {
      const { startLength, end } = markersOf(lineHead);
      payloadStart = lineStart + startLength;
      kind = RecordKind.Malformed;
      const at = lastIndexInFile(fd, end, payloadStart, contentEnd, w, scratchFor());
      if (at < 0) {
        payloadEnd = contentEnd;
      } else {
        payloadEnd = at;
        const i = metaIndex(textInFile(fd, at + end.length, contentEnd, w));
        if (i !== null) {
          kind = lineHead === Head.Request ? RecordKind.Request : RecordKind.Response;
          index = i;
        }
      }
    }
    writeRecord(out, o, kind, index, lineStart, payloadStart, payloadEnd, contentEnd + 1);
  }

  /**
   * The window ends inside a line. Streams on to the line's newline; returns [contentEnd,
   * new limit], or contentEnd -1 when the data ends first (a partial line). Afterwards the
   * window holds the chunk with the newline.
   */
  function streamToNewline(fd: number, w: ChunkWindow, limit: number): [number, number] {
    for (let at = w.end; at < limit; at = w.end) {
      limit = w.fillFrom(fd, at, limit);
      if (w.length === 0) break;
      const nl = w.view.indexOf(NEWLINE);
      if (nl >= 0) return [w.base + nl, limit];
    }
    return [-1, limit];
  }

  function scan(fd: number, offset: number, scanOptions?: ScanOptions): ScanResult {
    checkOffset(offset);
    const { maxBytes, maxRecords, searchFrom } = checkLimits(scanOptions);
    const size = fstatSync(fd).size;
    const sink = new RecordSink(Math.min(maxRecords, FIRST_RECORDS));
    if (offset >= size) return { records: sink.records, count: 0, nextOffset: offset, size, searchedTo: offset };
    const stopAt = offset + maxBytes;
    const w = windowFor();
    let limit = size;
    let pos = offset;
    if (searchFrom > offset && searchFrom <= size) {
      // A partial line searched before: only the bytes appended since are looked at, so a line
      // that grows for minutes costs each wake its new bytes, not its whole length again.
      w.reset(searchFrom);
      let contentEnd: number;
      [contentEnd, limit] = streamToNewline(fd, w, size);
      if (contentEnd < 0) return { records: sink.records, count: 0, nextOffset: offset, size: limit, searchedTo: limit };
      if (contentEnd + 1 - offset > w.capacity) {
        const got = readAt(fd, head, Math.min(HEAD_BYTES, contentEnd - offset), offset);
        classifyLongLine(fd, headOf(head, 0, got), offset, contentEnd, w, sink.records, sink.next());
        sink.count++;
        pos = contentEnd + 1;
      } else {
        w.reset(offset);
      }
    } else {
      w.reset(offset);
    }
    let partial = false;
    while (sink.count < maxRecords && pos < limit && (pos < stopAt || sink.count === 0)) {
      const rel = pos - w.base;
      const nl = rel < w.length ? w.view.indexOf(NEWLINE, rel) : -1;
      if (nl >= 0) {
        const slot = sink.next();
        classifyLine(w.buf, rel, nl, w.base, sink.records, slot);
        sink.count++;
        pos = w.base + nl + 1;
        continue;
      }
      if (w.end >= limit) {
        partial = true;
        break;
      }
      if (w.length - rel < HEAD_BYTES || (rel === 0 && w.length < w.capacity)) {
        limit = w.fillFrom(fd, pos, limit);
        continue;
      }
      // The line runs past the chunk. Its head is here; rather than copying its start to the
      // front of the chunk (a quarter of every chunk with lines of up to 1 MiB), stream on
      // to its newline and search its end marker backwards from there.
      const lineHead = headOf(w.buf, rel, w.length);
      const blankSoFar = lineHead === Head.SessionEndCandidate && isBlank(w.buf, rel + SESSION_END_BYTES.length, w.length);
      let contentEnd: number;
      [contentEnd, limit] = streamToNewline(fd, w, limit);
      if (contentEnd < 0) {
        partial = true;
        break;
      }
      // A session-end line only stays one while every byte after the marker is blank.
      const effectiveHead = lineHead === Head.SessionEndCandidate && !blankSoFar ? Head.Unknown : lineHead;
      const slot = sink.next();
      classifyLongLine(fd, effectiveHead, pos, contentEnd, w, sink.records, slot);
      sink.count++;
      pos = contentEnd + 1;
    }
    const end = Math.min(size, limit);
    return { records: sink.records, count: sink.count, nextOffset: pos, size: end, searchedTo: partial ? end : pos };
  }

  /** Classifies the line `[lineStart, contentEnd)` that does not fit in the window. */
  function classifyFromFile(fd: number, lineStart: number, contentEnd: number, kindMask: number, w: ChunkWindow): boolean {
    const got = readAt(fd, head, Math.min(HEAD_BYTES, contentEnd - lineStart), lineStart);
    const lineHead = headOf(head, 0, got);
    if ((possibleKinds(lineHead) & kindMask) === 0) return false;
    classifyLongLine(fd, lineHead, lineStart, contentEnd, w, one, 0);
    return ((1 << one[0]!) & kindMask) !== 0;
  }

  function findLast(fd: number, kindMask: number, before?: number): LogRecord | null {
    checkKindMask(kindMask);
    if (before !== undefined) checkOffset(before, 'before');
    const size = fstatSync(fd).size;
    const w = windowFor();
    const top = before === undefined ? size : Math.min(before, size);
    w.reset(top);
    let span = Math.min(FIRST_BACKWARD_BYTES, w.capacity);
    /** Fills the window with the bytes before `end`; each call reads twice as far as the last. */
    const fillBefore = (end: number): boolean => {
      const complete = w.fillBefore(fd, end, span);
      span = Math.min(span * 2, w.capacity);
      return complete;
    };

    /** The offset of the last newline before `end`, reading backwards; -1 when there is none, -2 when the file shrank. */
    const newlineBefore = (end: number): number => {
      for (let to = end; to > 0; to = w.base) {
        if (!(to > w.base && to <= w.end) && !fillBefore(to)) return -2;
        const at = w.view.lastIndexOf(NEWLINE, to - 1 - w.base);
        if (at >= 0) return w.base + at;
        if (w.base === 0) return -1;
      }
      return -1;
    };

    let nl = newlineBefore(top);
    while (nl >= 0) {
      if (!(nl >= w.base && nl < w.end) && !fillBefore(nl + 1)) return null;
      const rel = nl - w.base;
      const prevRel = rel > 0 ? w.view.lastIndexOf(NEWLINE, rel - 1) : -1;
      if (prevRel >= 0 || w.base === 0) {
        const s = prevRel + 1;
        if ((possibleKinds(headOf(w.buf, s, rel)) & kindMask) !== 0) {
          classifyLine(w.buf, s, rel, w.base, one, 0);
          if (((1 << one[0]!) & kindMask) !== 0) return recordAt({ records: one }, 0);
        }
        nl = prevRel >= 0 ? w.base + prevRel : -1;
        continue;
      }
      if (w.end !== nl + 1 || w.length < w.capacity) {
        // The line may fit: look at it through a (larger) window that ends with it.
        if (!fillBefore(nl + 1)) return null;
        continue;
      }
      // Longer than the window: find where it starts, then classify it from the file.
      const prev = newlineBefore(w.base);
      if (prev === -2) return null;
      if (classifyFromFile(fd, prev + 1, nl, kindMask, w)) return recordAt({ records: one }, 0);
      nl = prev;
    }
    return null;
  }

  return { kind: 'ts', scan, findLast };
}

/** The TypeScript engine, with 1 MiB chunks. */
export const tsEngine: ScanEngine = createTsEngine();
