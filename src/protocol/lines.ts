import { REQUEST_END, REQUEST_START, REQUEST_START_BYTES, RESPONSE_END, RESPONSE_START, RESPONSE_START_BYTES, SESSION_END } from './markers.js';

/** Where a request came in, when not on `/v1/chat/completions` (readers ignore meta keys they do not know). */
export interface RequestMeta {
  timestampMs?: number;
  endpoint?: string;
}

/**
 * Meta is written with Python's default separators, exactly as the reference writes it, so
 * that our log and the reference's are byte-compatible line for line; `endpoint` follows the
 * reference's two keys when a request came in on an agent API other than Chat Completions.
 */
export function formatMeta(index: number, timestampMs: number = Date.now(), endpoint?: string): string {
  const tail = endpoint === undefined ? '' : `, "endpoint": ${JSON.stringify(endpoint)}`;
  return `{"timestamp": ${timestampMs}, "index": ${index}${tail}}`;
}

/** Frames a compact payload given as text or as its UTF-8 bytes (a body of megabytes is not re-encoded). */
function frame(start: string, startBytes: Buffer, payload: string | Buffer, end: string, meta: string): Buffer {
  if (typeof payload === 'string') return Buffer.from(`${start}${payload}${end}${meta}\n`, 'utf8');
  return Buffer.concat([startBytes, payload, Buffer.from(`${end}${meta}\n`, 'utf8')]);
}

/** A complete request line for a compact JSON payload (see compactJson); returns the bytes to append. */
export function encodeRequestLine(compact: string | Buffer, index: number, meta: RequestMeta = {}): Buffer {
  return frame(REQUEST_START, REQUEST_START_BYTES, compact, REQUEST_END, formatMeta(index, meta.timestampMs, meta.endpoint));
}

/** A complete response line for a compact JSON payload (see compactJson); returns the bytes to append. */
export function encodeResponseLine(compact: string | Buffer, index: number, timestampMs?: number): Buffer {
  return frame(RESPONSE_START, RESPONSE_START_BYTES, compact, RESPONSE_END, formatMeta(index, timestampMs));
}

/** The session-end line. */
export const SESSION_END_LINE: Buffer = Buffer.from(`${SESSION_END}\n`, 'utf8');
