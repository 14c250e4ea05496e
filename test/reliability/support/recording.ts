/** Reads a proxy recording (JSONL) as a replay would: whole lines only, each one JSON. */
import { existsSync, readFileSync } from 'node:fs';

export interface RecordingLines {
  /** The records that parse, in order. */
  records: Record<string, unknown>[];
  /** Lines that are not JSON (a torn or glued write). */
  broken: number;
  /** The file ends inside a line (a partial record left behind). */
  partialTail: boolean;
  bytes: number;
}

/** Returns the lines of the recording at `path` (none when it does not exist yet). */
export function readRecording(path: string): RecordingLines {
  if (!existsSync(path)) return { records: [], broken: 0, partialTail: false, bytes: 0 };
  const bytes = readFileSync(path);
  const partialTail = bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a;
  const records: Record<string, unknown>[] = [];
  let broken = 0;
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      broken++;
    }
  }
  return { records, broken, partialTail, bytes: bytes.length };
}
