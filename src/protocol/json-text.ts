import { InvalidJsonError, InvalidUtf8Error } from '../errors.js';
import { locateJsonError } from './json-error.js';

/**
 * Marker strings can only occur inside JSON strings once whitespace is gone (outside strings
 * there are only punctuation, numbers and literals), so one pass over the compact text finds
 * them all. Escaping the first underscore keeps the JSON value and hides the marker from every
 * reader, including the reference's naive `split(marker)` and `"SESSION_END" in line`.
 */
const MARKER_PATTERN = /LLM_RE(?:QUEST|SPONSE)_(?:START|END)|SESSION_END/g;
const escapeMarker = (marker: string): string => marker.replace('_', '\\u005f');

export interface ParsedJson {
  /** The original JSON text with insignificant whitespace removed and markers escaped. */
  compact: string;
  /** The parsed value (for decisions such as "is it an object", "stream: true"); never written back. */
  value: unknown;
}

/**
 * Validates `text` as JSON and returns it compacted (see ParsedJson.compact) with its parsed value.
 * @throws InvalidJsonError saying where the text broke (line, column and offset).
 */
export function parseJsonText(text: string): ParsedJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw describeJsonError(text, err);
  }
  return { compact: compactValidJson(text), value };
}

/**
 * Compacts a JSON text losslessly: the original number and string spellings and key order survive
 * byte for byte (a 19-digit integer is never rounded through a double).
 * @throws InvalidJsonError when the text is not JSON.
 */
export function compactJson(text: string): string {
  return parseJsonText(text).compact;
}

/**
 * Removes whitespace outside strings and escapes markers; `text` must already be valid JSON.
 * Most clients send JSON.stringify output, which has nothing to strip: then the text itself is
 * returned and no copy of a request of megabytes is made.
 */
function compactValidJson(text: string): string {
  let parts: string[] | undefined;
  let copiedUpTo = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const quote = text.indexOf('"', i);
    const structuralEnd = quote === -1 ? n : quote;
    if (hasWhitespace(text, i, structuralEnd)) {
      parts ??= [];
      parts.push(text.slice(copiedUpTo, i), text.slice(i, structuralEnd).replace(/[ \t\n\r]+/g, ''));
      copiedUpTo = structuralEnd;
    }
    if (quote === -1) break;
    i = closingQuote(text, quote + 1) + 1;
  }
  let compact = text;
  if (parts) {
    parts.push(text.slice(copiedUpTo));
    compact = parts.join('');
  }
  return escapeMarkers(compact);
}

/**
 * Escapes every marker string inside a valid JSON text (outside strings a marker cannot occur),
 * for a payload built by JSON.stringify rather than compacted from the agent's text.
 * @returns the text itself when it holds no marker.
 */
export function escapeMarkers(json: string): string {
  return json.includes('LLM_RE') || json.includes('SESSION_END') ? json.replace(MARKER_PATTERN, escapeMarker) : json;
}

function hasWhitespace(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return true;
  }
  return false;
}

/** The index of the quote closing a string whose contents start at `from` (the text is valid JSON). */
export function closingQuote(text: string, from: number): number {
  let at = text.indexOf('"', from);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
}

function describeJsonError(text: string, err: unknown): InvalidJsonError {
  if (text.trim() === '') return new InvalidJsonError('invalid JSON: the text is empty; send a JSON value', 0, { cause: err });
  const { position, reason } = locateJsonError(text);
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < position; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  const near = JSON.stringify(text.slice(Math.max(0, position - 20), position + 20));
  return new InvalidJsonError(
    `invalid JSON at line ${line}, column ${position - lineStart + 1} (character ${position}): ${reason}, near ${near}`,
    position,
    { cause: err },
  );
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes as UTF-8, refusing invalid sequences (a replacement character would silently
 * change the payload).
 * @throws InvalidUtf8Error naming the first bad byte offset.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new InvalidUtf8Error(`the payload is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)}); send UTF-8 text`);
  }
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    const second = bytes[i + 1]!;
    // The second byte's range rules out overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    const lo = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const hi = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return i;
}
