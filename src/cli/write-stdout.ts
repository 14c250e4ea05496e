import { writeSync } from 'node:fs';

/**
 * Writes `text` to stdout synchronously and whole. `process.stdout.write` is asynchronous on
 * pipes, so a big request followed by an early exit would be cut at 64 KiB (SPEC 11); a
 * non-blocking stdout that fills up hands the rest to the stream, and the process must then
 * end on its own (set `process.exitCode`, never call `process.exit()`).
 * @throws the write error (EPIPE when the reader went away).
 */
export function writeStdoutSync(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset, bytes.length - offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      process.stdout.write(bytes.subarray(offset));
      return;
    }
  }
}
