import { writeSync } from 'node:fs';

/**
 * Writes `parts` to stdout synchronously and whole. `process.stdout.write` is asynchronous on
 * pipes, so a big request followed by an early exit would be cut at 64 KiB (measured); a
 * non-blocking stdout that fills up hands the rest to the stream, and the process must then
 * end on its own (set `process.exitCode`, never call `process.exit()`).
 * @throws the write error (EPIPE when the reader went away).
 */
export function writeStdoutSync(...parts: (string | Buffer)[]): void {
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(1, bytes, offset, bytes.length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        process.stdout.write(bytes.subarray(offset));
        for (const rest of parts.slice(p + 1)) process.stdout.write(rest);
        return;
      }
    }
  }
}
