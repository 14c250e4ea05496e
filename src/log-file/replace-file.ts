/**
 * The CLI's small files beside the pid file (the pid file, `service.json`): read without
 * following a final link or blocking on a fifo, and replaced whole, never written through a link.
 */
import { closeSync, constants, fstatSync, lstatSync, readSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { describeFileType, openRegularFile, unsafePathError } from './append.js';

/**
 * Reads a small file (a pid file, a record) that must be a regular file, without following a
 * final link or blocking on a fifo.
 * @returns its bytes as UTF-8 text, at most `maxBytes` of them.
 * @throws UnsafePathError, or the open(2) error (ENOENT…).
 */
export function readRegularFileSync(path: string, what: string, maxBytes = 64 * 1024): string {
  const fd = openRegularFile(path, constants.O_RDONLY, what);
  try {
    const buf = Buffer.alloc(Math.min(maxBytes, fstatSync(fd).size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` with a new regular file holding `text`: written to a fresh file beside it
 * (created exclusively, so never through a link), then renamed over it, which replaces a link
 * rather than writing into its target, and lets no reader see half a file.
 * @throws UnsafePathError when the path holds something other than a regular file; the file
 *   system's error (EACCES, ENOSPC…).
 */
export function replaceRegularFile(path: string, text: string, what: string): void {
  let existing: Stats | undefined;
  try {
    existing = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing !== undefined && !existing.isFile()) throw unsafePathError(what, path, describeFileType(existing));
  // Unique enough with O_EXCL behind it; node:crypto would cost the anti-call path milliseconds to load.
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openRegularFile(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, what);
  try {
    try {
      const bytes = Buffer.from(text, 'utf8');
      for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}
