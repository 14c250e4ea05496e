/**
 * The log's reading rules for one line whose bytes are in memory: what its start says it is,
 * where its payload ends (the LAST end marker on the line), and whether its meta holds a
 * usable index. The native addon implements the same rules; both must agree byte for byte.
 * test/scanner/conformance.test.ts has the rules as a table.
 */
import { REQUEST_END_BYTES, REQUEST_START_BYTES, RESPONSE_END_BYTES, RESPONSE_START_BYTES, SESSION_END_BYTES } from '../protocol/markers.js';
import { RecordKind, writeRecord } from './types.js';

/** Enough bytes of a line's start to tell its kind (the longest start marker). */
export const HEAD_BYTES = RESPONSE_START_BYTES.length;

/**
 * What a line's first bytes say. A `SessionEndCandidate` is a session end only when the
 * rest of the line is blank; a `Request`/`Response` start can still turn out malformed.
 */
export const Head = { Request: 1, Response: 2, SessionEndCandidate: 3, Unknown: 4 } as const;
export type Head = (typeof Head)[keyof typeof Head];

const L = 0x4c;
const S = 0x53;

// Byte loops rather than Buffer.compare/lastIndexOf/toString: on lines of a few hundred
// bytes each of those calls costs 100-500 ns, several times the loop (measured).
function startsWith(buf: Buffer, s: number, e: number, marker: Buffer): boolean {
  const n = marker.length;
  if (e - s < n) return false;
  for (let k = 0; k < n; k++) if (buf[s + k] !== marker[k]) return false;
  return true;
}

/** How far back from a line's end the end marker is looked for byte by byte before Buffer.lastIndexOf takes over. */
const NEAR_END_BYTES = 512;

/** Returns the offset in `buf` of the last `needle` that lies inside `buf[from, to)`, or -1. */
export function lastIndexWithin(buf: Buffer, needle: Buffer, from: number, to: number): number {
  const n = needle.length;
  const last = needle[n - 1];
  const nearFrom = Math.max(from, to - NEAR_END_BYTES);
  for (let i = to - n; i >= nearFrom; i--) {
    if (buf[i + n - 1] !== last) continue;
    let k = 0;
    while (k < n - 1 && buf[i + k] === needle[k]) k++;
    if (k === n - 1) return i;
  }
  if (nearFrom === from) return -1;
  // A subarray bounds the search to this line: lastIndexOf on the whole chunk would run
  // back through every earlier line when the marker is missing.
  const at = buf.subarray(from, nearFrom + n - 1).lastIndexOf(needle);
  return at < 0 ? -1 : from + at;
}

/** Returns what the bytes `buf[s, e)` at the start of a line say the line is. */
export function headOf(buf: Buffer, s: number, e: number): Head {
  const first = buf[s];
  if (first === L) {
    if (startsWith(buf, s, e, REQUEST_START_BYTES)) return Head.Request;
    if (startsWith(buf, s, e, RESPONSE_START_BYTES)) return Head.Response;
  } else if (first === S && startsWith(buf, s, e, SESSION_END_BYTES)) {
    return Head.SessionEndCandidate;
  }
  return Head.Unknown;
}

/** The record kinds a line with this head can turn out to be, as a KindMask. */
export function possibleKinds(head: Head): number {
  switch (head) {
    case Head.Request:
      return (1 << RecordKind.Request) | (1 << RecordKind.Malformed);
    case Head.Response:
      return (1 << RecordKind.Response) | (1 << RecordKind.Malformed);
    case Head.SessionEndCandidate:
      return (1 << RecordKind.SessionEnd) | (1 << RecordKind.Unknown);
    default:
      return 1 << RecordKind.Unknown;
  }
}

/** Returns true when `buf[from, to)` holds only spaces, tabs and carriage returns. */
export function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** The start marker's length and the end marker for a request or response head. */
export function markersOf(head: typeof Head.Request | typeof Head.Response): { startLength: number; end: Buffer } {
  return head === Head.Request
    ? { startLength: REQUEST_START_BYTES.length, end: REQUEST_END_BYTES }
    : { startLength: RESPONSE_START_BYTES.length, end: RESPONSE_END_BYTES };
}

/**
 * Returns the meta's index, or null when the meta is not a JSON object with an `index`
 * that is an integer within ±(2^53-1). JSON.parse decides what JSON is (the last of
 * duplicate keys wins); -0 is reported as 0.
 */
export function metaIndex(meta: string): number | null {
  let value: unknown;
  try {
    value = JSON.parse(meta);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, 'index')) return null;
  const index = (value as { index: unknown }).index;
  return typeof index === 'number' && Number.isSafeInteger(index) ? index + 0 : null;
}

const SPACE = 0x20;
const TIMESTAMP_KEY = Buffer.from('"timestamp"', 'latin1');
const INDEX_KEY = Buffer.from('"index"', 'latin1');

function skipSpaces(buf: Buffer, i: number, e: number): number {
  while (i < e && buf[i] === SPACE) i++;
  return i;
}

/** The offset after `"key"` and its colon (spaces allowed around it), or -1. */
function afterKey(buf: Buffer, i: number, e: number, key: Buffer): number {
  if (e - i < key.length || buf[i] !== 0x22) return -1;
  for (let k = 1; k < key.length; k++) if (buf[i + k] !== key[k]) return -1;
  i = skipSpaces(buf, i + key.length, e);
  return buf[i] === 0x3a ? skipSpaces(buf, i + 1, e) : -1;
}

/**
 * The index of a meta in the shapes writers use, `{"timestamp": T, "index": N}` or
 * `{"index": N}` (Python's or compact separators), read without decoding or JSON.parse;
 * undefined for anything else (then JSON.parse decides). Only integers of at most 15
 * digits without a leading zero qualify, so the value is exactly what JSON.parse gives.
 */
function quickMetaIndex(buf: Buffer, i: number, e: number): number | undefined {
  if (buf[i] !== 0x7b) return undefined;
  i = skipSpaces(buf, i + 1, e);
  const afterTimestamp = afterKey(buf, i, e, TIMESTAMP_KEY);
  if (afterTimestamp >= 0) {
    i = afterTimestamp;
    if (buf[i] === 0x2d) i++;
    const digits = i;
    while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
    if (i === digits || (i - digits > 1 && buf[digits] === 0x30)) return undefined;
    i = skipSpaces(buf, i, e);
    if (buf[i] !== 0x2c) return undefined;
    i = skipSpaces(buf, i + 1, e);
  }
  i = afterKey(buf, i, e, INDEX_KEY);
  if (i < 0) return undefined;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  const digits = i;
  let value = 0;
  while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39) value = value * 10 + (buf[i++]! - 0x30);
  const count = i - digits;
  if (count === 0 || count > 15 || (count > 1 && buf[digits] === 0x30)) return undefined;
  i = skipSpaces(buf, i, e);
  if (buf[i] !== 0x7d || i + 1 !== e) return undefined;
  return negative && value !== 0 ? -value : value;
}

/** metaIndex of the meta bytes `buf[s, e)`. */
export function metaIndexAt(buf: Buffer, s: number, e: number): number | null {
  return quickMetaIndex(buf, s, e) ?? metaIndex(buf.toString('utf8', s, e));
}

/**
 * Classifies the complete line `buf[s, e)` (e is its `\n`, relative to `buf`, whose first
 * byte is at file offset `base`) and writes its record (RECORD_STRIDE numbers) at `out[o]`.
 */
export function classifyLine(buf: Buffer, s: number, e: number, base: number, out: Float64Array, o: number): void {
  const head = headOf(buf, s, e);
  let kind: RecordKind = RecordKind.Unknown;
  let index = -1;
  let payloadStart = s;
  let payloadEnd = s;
  if (head === Head.SessionEndCandidate) {
    if (isBlank(buf, s + SESSION_END_BYTES.length, e)) kind = RecordKind.SessionEnd;
  } else if (head !== Head.Unknown) {
    const { startLength, end } = markersOf(head);
    payloadStart = s + startLength;
    const at = lastIndexWithin(buf, end, payloadStart, e);
    kind = RecordKind.Malformed;
    if (at < 0) {
      payloadEnd = e;
    } else {
      payloadEnd = at;
      const i = metaIndexAt(buf, at + end.length, e);
      if (i !== null) {
        kind = head === Head.Request ? RecordKind.Request : RecordKind.Response;
        index = i;
      }
    }
  }
  writeRecord(out, o, kind, index, base + s, base + payloadStart, base + payloadEnd, base + e + 1);
}
