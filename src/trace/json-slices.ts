/**
 * Byte ranges of the values inside a JSON text, found without parsing it. A request of
 * megabytes repeats the whole conversation: slicing its `messages` array lets the trace hash
 * each message as it is written and parse only the ones the previous request did not have.
 * Strings are skipped with `Buffer.indexOf` (memchr speed); only the structure is walked.
 */

/** A value's bytes: `[start, end)` in the buffer. */
export interface Slice {
  start: number;
  end: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(buf: Uint8Array, at: number, end: number): number {
  while (at < end && isSpace(buf[at])) at++;
  return at;
}

/** Past the closing quote of the string whose opening quote is at `at`; -1 when it does not close before `end`. */
function stringEnd(buf: Buffer, at: number, end: number): number {
  let quote = buf.indexOf(QUOTE, at + 1);
  while (quote !== -1 && quote < end) {
    let backslashes = 0;
    while (buf[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    quote = buf.indexOf(QUOTE, quote + 1);
  }
  return -1;
}

/** Past the value starting at `at` (no leading space); -1 when the bytes are not one well-formed value. */
function valueEnd(buf: Buffer, at: number, end: number): number {
  const first = buf[at];
  if (first === QUOTE) return stringEnd(buf, at, end);
  if (first !== 0x7b && first !== 0x5b) {
    let i = at;
    while (i < end) {
      const c = buf[i]!;
      if (c === 0x2c || c === 0x7d || c === 0x5d || isSpace(c)) break;
      i++;
    }
    return i > at ? i : -1;
  }
  let depth = 0;
  let i = at;
  while (i < end) {
    const c = buf[i]!;
    if (c === QUOTE) {
      i = stringEnd(buf, i, end);
      if (i === -1) return -1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/** The value filling `[start, end)` less surrounding space, when it is one value; null otherwise. */
export function wholeValue(buf: Buffer, start: number, end: number): Slice | null {
  const from = skipSpace(buf, start, end);
  if (from >= end) return null;
  const to = valueEnd(buf, from, end);
  if (to === -1 || skipSpace(buf, to, end) !== end) return null;
  return { start: from, end: to };
}

/**
 * The members of the object in `value`, key by key (a repeated key: the last one, as JSON.parse
 * does); null when `value` is not an object. The bytes must be valid JSON for the answer to be
 * right; malformed bytes give null or ranges that fail to parse later, never an exception.
 */
export function objectMembers(buf: Buffer, value: Slice): Map<string, Slice> | null {
  if (buf[value.start] !== 0x7b) return null;
  const members = new Map<string, Slice>();
  let i = skipSpace(buf, value.start + 1, value.end);
  if (buf[i] === 0x7d) return members;
  while (i < value.end) {
    if (buf[i] !== QUOTE) return null;
    const keyEnd = stringEnd(buf, i, value.end);
    if (keyEnd === -1) return null;
    let key: string;
    try {
      key = JSON.parse(buf.toString('utf8', i, keyEnd)) as string;
    } catch {
      return null;
    }
    i = skipSpace(buf, keyEnd, value.end);
    if (buf[i] !== 0x3a) return null;
    i = skipSpace(buf, i + 1, value.end);
    const end = valueEnd(buf, i, value.end);
    if (end === -1) return null;
    members.set(key, { start: i, end });
    i = skipSpace(buf, end, value.end);
    if (buf[i] === 0x7d) return members;
    if (buf[i] !== 0x2c) return null;
    i = skipSpace(buf, i + 1, value.end);
  }
  return null;
}

/** The elements of the array in `value`; null when it is not an array. Same contract as objectMembers. */
export function arrayElements(buf: Buffer, value: Slice): Slice[] | null {
  if (buf[value.start] !== 0x5b) return null;
  const elements: Slice[] = [];
  let i = skipSpace(buf, value.start + 1, value.end);
  if (buf[i] === 0x5d) return elements;
  while (i < value.end) {
    const end = valueEnd(buf, i, value.end);
    if (end === -1) return null;
    elements.push({ start: i, end });
    i = skipSpace(buf, end, value.end);
    if (buf[i] === 0x5d) return elements;
    if (buf[i] !== 0x2c) return null;
    i = skipSpace(buf, i + 1, value.end);
  }
  return null;
}

/** The slice's bytes parsed; undefined when they are not JSON (or not UTF-8). */
export function parseSlice(buf: Buffer, slice: Slice): unknown {
  try {
    return JSON.parse(utf8.decode(buf.subarray(slice.start, slice.end)));
  } catch {
    return undefined;
  }
}

/** The slice's bytes as text (strict UTF-8); undefined when they are not UTF-8. */
export function sliceText(buf: Buffer, slice: Slice): string | undefined {
  try {
    return utf8.decode(buf.subarray(slice.start, slice.end));
  } catch {
    return undefined;
  }
}
