/**
 * A plain reader written straight from the log's reading rules (the table in
 * conformance.test.ts), sharing nothing with the engines: the whole file as one string (latin1, so that a character is a byte and string
 * offsets are file offsets), split('\n'), startsWith and lastIndexOf. Fine for test-sized logs.
 */
import { readFileSync } from 'node:fs';

export interface ReferenceRecord {
  kind: 'request' | 'response' | 'session-end' | 'unknown' | 'malformed';
  index: number;
  lineStart: number;
  payloadStart: number;
  payloadEnd: number;
  lineEnd: number;
}

/** The numeric kinds of src/scanner/types.ts, so that results compare with the engines'. */
export const KIND_NUMBER = { request: 1, response: 2, 'session-end': 3, unknown: 4, malformed: 5 } as const;

function indexOfMeta(metaLatin1: string): number | null {
  let meta: unknown;
  try {
    meta = JSON.parse(Buffer.from(metaLatin1, 'latin1').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || !Object.prototype.hasOwnProperty.call(meta, 'index')) return null;
  const index = (meta as Record<string, unknown>).index;
  if (typeof index !== 'number' || !Number.isInteger(index) || Math.abs(index) > Number.MAX_SAFE_INTEGER) return null;
  return index === 0 ? 0 : index;
}

/** Returns every complete line of `bytes` as a record, and where the complete lines end. */
export function readReference(bytes: Buffer): { records: ReferenceRecord[]; completeEnd: number } {
  const text = bytes.toString('latin1');
  const lines = text.split('\n');
  lines.pop(); // after the last '\n': a line still being written (or nothing)
  const records: ReferenceRecord[] = [];
  let lineStart = 0;
  for (const line of lines) {
    const lineEnd = lineStart + line.length + 1;
    const framed = (
      [
        ['LLM_REQUEST_START', 'LLM_REQUEST_END', 'request'],
        ['LLM_RESPONSE_START', 'LLM_RESPONSE_END', 'response'],
      ] as const
    ).find(([start]) => line.startsWith(start));
    if (framed) {
      const [start, end, kind] = framed;
      const endAt = line.lastIndexOf(end);
      const payloadStart = lineStart + start.length;
      if (endAt < start.length) {
        records.push({ kind: 'malformed', index: -1, lineStart, payloadStart, payloadEnd: lineStart + line.length, lineEnd });
      } else {
        const index = indexOfMeta(line.slice(endAt + end.length));
        records.push({
          kind: index === null ? 'malformed' : kind,
          index: index ?? -1,
          lineStart,
          payloadStart,
          payloadEnd: lineStart + endAt,
          lineEnd,
        });
      }
    } else {
      const kind = /^SESSION_END[ \t\r]*$/.test(line) ? 'session-end' : 'unknown';
      records.push({ kind, index: -1, lineStart, payloadStart: lineStart, payloadEnd: lineStart, lineEnd });
    }
    lineStart = lineEnd;
  }
  return { records, completeEnd: lineStart };
}

/** Reads the file at `path` with readReference. */
export function readReferenceFile(path: string): { records: ReferenceRecord[]; completeEnd: number } {
  return readReference(readFileSync(path));
}
