/**
 * The scanner contract (SPEC sections 3 and 10). Two engines implement it, native (C++ addon)
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

/**
 * Records come back as a flat Float64Array, RECORD_STRIDE numbers per line, so that a batch
 * of any size costs one allocation and one native call (SPEC 11: one N-API call per record
 * caps a scan at about 3 GB/s). Offsets are exact up to 2^53 bytes.
 */
export const RECORD_STRIDE = 6;
/** Field positions inside one record. */
export const F_KIND = 0;
/** Meta index for requests and responses; -1 for every other kind. */
export const F_INDEX = 1;
/** Offset of the line's first byte. */
export const F_LINE_START = 2;
/** Request/response: first byte after the start marker. Other kinds: equal to the line start. */
export const F_PAYLOAD_START = 3;
/** Request/response: first byte of the last end marker on the line. Other kinds: equal to the line start. Malformed with no end marker: the line end minus its newline. */
export const F_PAYLOAD_END = 4;
/** Offset just past the line's `\n`. */
export const F_LINE_END = 5;

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
}

export interface ScanOptions {
  /** Stop before a line that starts at or after `offset + maxBytes` (at least one complete line is always taken). Default: no limit. */
  maxBytes?: number;
  /** Stop after this many lines, of any kind. Default 65536. */
  maxRecords?: number;
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
