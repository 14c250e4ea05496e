/**
 * The scanner contract (docs/library.md). Two engines implement it, native (C++ addon)
 * and TypeScript, and must give identical results byte for byte; `LogScanner` adds the
 * file handling on top of whichever engine loaded.
 */

/** What a complete log line is. Values are part of the native ABI: do not renumber. */
export const RecordKind = {
  Request: 1,
  Response: 2,
  SessionEnd: 3,
  /** A line that starts with no known marker: skipped and counted. */
  Unknown: 4,
  /** A request/response line whose end marker is missing, whose meta is not JSON, or whose index is not an integer. */
  Malformed: 5,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Bit masks for `findLast`: `1 << kind`. */
export const KindMask = {
  Request: 1 << RecordKind.Request,
  Response: 1 << RecordKind.Response,
  SessionEnd: 1 << RecordKind.SessionEnd,
  Unknown: 1 << RecordKind.Unknown,
  Malformed: 1 << RecordKind.Malformed,
} as const;

/** Every KindMask bit: `findLast(ALL_KINDS)` finds the last complete line, whatever it is. */
export const ALL_KINDS = KindMask.Request | KindMask.Response | KindMask.SessionEnd | KindMask.Unknown | KindMask.Malformed;

/**
 * Records come back as a flat Float64Array, `RECORD_LAYOUT.stride` numbers per line, so that a
 * batch of any size costs one allocation and one native call (one N-API call per
 * record caps a scan at about 3 GB/s). Offsets are exact up to 2^53 bytes. This table is the
 * one spelling of the layout on the TypeScript side; `native/record_layout.h` is the C++ one,
 * the addon exports its numbers, and the loader refuses a binary whose numbers differ.
 */
export const RECORD_LAYOUT = {
  stride: 6,
  fields: {
    kind: 0,
    /** Meta index for requests and responses; -1 for every other kind. */
    index: 1,
    /** Offset of the line's first byte. */
    lineStart: 2,
    /** Request/response: first byte after the start marker. Other kinds: equal to the line start. */
    payloadStart: 3,
    /** Request/response: first byte of the last end marker on the line. Other kinds: equal to the line start. Malformed with no end marker: the line end minus its newline. */
    payloadEnd: 4,
    /** Offset just past the line's `\n`. */
    lineEnd: 5,
  },
} as const;

/** Numbers per record. */
export const RECORD_STRIDE = RECORD_LAYOUT.stride;
/** Field positions inside one record (RECORD_LAYOUT.fields). */
export const F_KIND = RECORD_LAYOUT.fields.kind;
export const F_INDEX = RECORD_LAYOUT.fields.index;
export const F_LINE_START = RECORD_LAYOUT.fields.lineStart;
export const F_PAYLOAD_START = RECORD_LAYOUT.fields.payloadStart;
export const F_PAYLOAD_END = RECORD_LAYOUT.fields.payloadEnd;
export const F_LINE_END = RECORD_LAYOUT.fields.lineEnd;

/** One decoded record (convenience view of one stride of a ScanResult). */
export interface LogRecord {
  kind: RecordKind;
  /** Meta index (requests and responses); -1 otherwise. */
  index: number;
  lineStart: number;
  payloadStart: number;
  payloadEnd: number;
  lineEnd: number;
}

/** What one scan call found. */
export interface ScanResult {
  /** `count * RECORD_STRIDE` numbers (the array may be longer; read only `count` records). */
  records: Float64Array;
  count: number;
  /**
   * Where the next scan starts: the start of the first line not consumed (a partial last
   * line, or a line past the batch limits), or the end of the data. Never inside a line.
   */
  nextOffset: number;
  /** The file size the scan saw (fstat). Smaller than the offset asked for means truncation. */
  size: number;
  /**
   * The bytes `[nextOffset, searchedTo)` hold no newline: when the scan stopped at a partial
   * last line, the end of the data; otherwise `nextOffset`. Pass it back as `searchFrom` when
   * scanning from `nextOffset` again, so that a line still being written is not searched from
   * its start on every wake.
   */
  searchedTo: number;
}

export interface ScanOptions {
  /** Stop before a line that starts at or after `offset + maxBytes` (at least one complete line is always taken). Default: no limit. */
  maxBytes?: number;
  /** Stop after this many lines, of any kind. Default 65536. */
  maxRecords?: number;
  /**
   * The caller knows that `[offset, searchFrom)` holds no newline (an earlier scan's
   * `searchedTo` for the same offset): the first line's newline is looked for from there.
   * Ignored unless `offset < searchFrom <= size`; a file that shrank below it is searched from
   * `offset` again.
   */
  searchFrom?: number;
}

/**
 * A stateless scanning engine over an open file descriptor. Engines never throw for content
 * (bad lines become Unknown/Malformed records); they throw for bad arguments (code
 * RMS_INVALID_ARGUMENT) and for I/O errors (the errno code, for example EBADF). A file
 * that shrinks during a scan is not an error: the scan returns what it had and the new size.
 */
export interface ScanEngine {
  readonly kind: 'native' | 'ts';
  scan(fd: number, offset: number, options?: ScanOptions): ScanResult;
  /**
   * The latest complete line before `before` (default: the end of the last complete line)
   * whose kind is in `kindMask` (see KindMask), found by reading backwards, so that the cost
   * follows the bytes read, not the size of the file. Null when there is none.
   */
  findLast(fd: number, kindMask: number, before?: number): LogRecord | null;
}

/** Returns record `i`'s decoded fields from a scan result (or any records array, such as findLast's one record). */
export function recordAt(result: Pick<ScanResult, 'records'>, i: number): LogRecord {
  const r = result.records;
  const b = i * RECORD_STRIDE;
  return {
    kind: r[b + F_KIND] as RecordKind,
    index: r[b + F_INDEX]!,
    lineStart: r[b + F_LINE_START]!,
    payloadStart: r[b + F_PAYLOAD_START]!,
    payloadEnd: r[b + F_PAYLOAD_END]!,
    lineEnd: r[b + F_LINE_END]!,
  };
}

/** Writes one record's fields at `out[o]` (the inverse of recordAt). */
export function writeRecord(
  out: Float64Array,
  o: number,
  kind: RecordKind,
  index: number,
  lineStart: number,
  payloadStart: number,
  payloadEnd: number,
  lineEnd: number,
): void {
  out[o + F_KIND] = kind;
  out[o + F_INDEX] = index;
  out[o + F_LINE_START] = lineStart;
  out[o + F_PAYLOAD_START] = payloadStart;
  out[o + F_PAYLOAD_END] = payloadEnd;
  out[o + F_LINE_END] = lineEnd;
}
