import { REQUEST_END, REQUEST_START, RESPONSE_END, RESPONSE_START, SESSION_END } from './markers.js';

/**
 * Meta is written with Python's default separators, exactly as the reference writes it, so
 * that our log and the reference's are byte-compatible line for line.
 */
export function formatMeta(index: number, timestampMs: number = Date.now()): string {
  return `{"timestamp": ${timestampMs}, "index": ${index}}`;
}

/** A complete request line for a compact JSON payload (see compactJson); returns the bytes to append. */
export function encodeRequestLine(compact: string, index: number, timestampMs?: number): Buffer {
  return Buffer.from(`${REQUEST_START}${compact}${REQUEST_END}${formatMeta(index, timestampMs)}\n`, 'utf8');
}

/** A complete response line for a compact JSON payload (see compactJson); returns the bytes to append. */
export function encodeResponseLine(compact: string, index: number, timestampMs?: number): Buffer {
  return Buffer.from(`${RESPONSE_START}${compact}${RESPONSE_END}${formatMeta(index, timestampMs)}\n`, 'utf8');
}

/** The session-end line. */
export const SESSION_END_LINE: Buffer = Buffer.from(`${SESSION_END}\n`, 'utf8');
