/**
 * Opening the files this package writes (the log, the pid file, `service.json`, `service.log`)
 * the way a service that runs as root must: never through a final symbolic link (a link swapped
 * in for the log would send the next line into its target, /etc/passwd included), never blocking
 * on a fifo or a device, and only onto a regular file.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, renameSync, rmSync, writeSync, type Stats } from 'node:fs';
import { UnsafePathError } from '../errors.js';

/** Returns what a file is, in words, for messages ("a directory", "a fifo"…). */
export function describeFileType(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a fifo';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Returns the UnsafePathError for `path`, which is `type` (as describeFileType words it). */
export function unsafePathError(what: string, path: string, type: string): UnsafePathError {
  return new UnsafePathError(
    path,
    `${what} ${path} is ${type}, not a regular file; it is not followed or written to: remove it (or point the service at another path) and retry`,
  );
}

/**
 * Opens `path` with `flags` plus O_NOFOLLOW and O_NONBLOCK (which regular files ignore, and which
 * keeps the open of a fifo or a device from blocking), then checks that it is a regular file.
 * `what` names the file in messages ("the log", "the pid file").
 * @returns the open descriptor.
 * @throws UnsafePathError for a symbolic link, a directory, a fifo, a socket or a device; the
 *   open(2) error otherwise (ENOENT, EEXIST with O_EXCL, EACCES…).
 */
export function openRegularFile(path: string, flags: number, what: string, mode = 0o644): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: the final component is a symbolic link (O_NOFOLLOW); EISDIR: a directory opened for
    // writing; ENXIO: a fifo with no reader opened for writing without blocking.
    if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO') throw unsafePathError(what, path, typeOf(path, code));
    throw err;
  }
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!stats.isFile()) {
    closeSync(fd);
    throw unsafePathError(what, path, describeFileType(stats));
  }
  return fd;
}

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

function typeOf(path: string, code: string): string {
  try {
    return describeFileType(lstatSync(path));
  } catch {
    return code === 'ELOOP' ? 'a symbolic link' : 'not a regular file';
  }
}
