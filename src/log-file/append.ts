/**
 * Opening and appending to the log. The service runs as root in sandboxes, so the files it
 * writes are opened the way such a process must: never through a final symbolic link (a link
 * swapped in for the log would send the next line into its target, /etc/passwd included), never
 * blocking on a fifo or a device, and only onto a regular file. (The opening helpers live here,
 * not in a module of their own: every module the anti-call path loads costs each turn about a
 * millisecond.)
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { UnsafePathError, WriteFailedError } from '../errors.js';

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

function typeOf(path: string, code: string): string {
  try {
    return describeFileType(lstatSync(path));
  } catch {
    return code === 'ELOOP' ? 'a symbolic link' : 'not a regular file';
  }
}


export interface AppendOpenOptions {
  /** Create the file when it is missing (default true). */
  create?: boolean;
  /** Create it, and fail with EEXIST when something is already at the path (default false). */
  exclusive?: boolean;
}

/**
 * Opens the log `path` for appending. Every write on an O_APPEND descriptor lands at the current
 * end of the file, whichever process writes, so the service and the runtime can append to one
 * log at once. A final symbolic link is never followed (a dangling one is not created through).
 * @throws UnsafePathError when the path is a symbolic link or not a regular file; the open(2)
 *   error otherwise (ENOENT for a missing file without `create` or a missing directory, EEXIST
 *   with `exclusive`, EACCES…).
 */
export function openAppendFd(path: string, options: AppendOpenOptions = {}): number {
  const { create = true, exclusive = false } = options;
  const createFlags = exclusive ? constants.O_CREAT | constants.O_EXCL : create ? constants.O_CREAT : 0;
  // Readable too, so that a torn tail can be checked before it is cut off (see appendLine).
  return openRegularFile(path, constants.O_RDWR | constants.O_APPEND | createFlags, 'the log');
}

/**
 * The most one write(2) moves on Linux (MAX_RW_COUNT). Past it, libuv's writeSync silently
 * issues a second write(2) for the rest (seen with strace), and a concurrent appender's line
 * can land between the two pieces; so a longer line is refused rather than split.
 */
export const MAX_LINE_BYTES = 0x7ffff000;

/**
 * Appends one complete line with exactly one write(2): two processes appending at once never
 * interleave inside a line. A short write (disk full, file-size limit) is cut back off the file
 * when it is still the last thing in it, so no reader ever sees a torn record.
 * @throws WriteFailedError when the line could not be written whole.
 */
export function appendLine(fd: number, line: Buffer): void {
  if (line.length > MAX_LINE_BYTES) {
    throw new WriteFailedError(
      `a line of ${line.length} bytes is longer than one write(2) can append whole (${MAX_LINE_BYTES} bytes); ` +
        'nothing was written; send a smaller payload',
    );
  }
  let written: number;
  try {
    written = writeSync(fd, line, 0, line.length);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new WriteFailedError(`could not append ${line.length} bytes to the log (${code}): ${(err as Error).message}; free space or raise the file-size limit, then retry`, { cause: err });
  }
  if (written !== line.length) {
    removeTornTail(fd, line, written);
    throw new WriteFailedError(
      `only ${written} of ${line.length} bytes reached the log (disk full or file-size limit); the partial line was removed; free space, then retry`,
    );
  }
}

/**
 * A partial line has no `\n`, so no scanner reads it, but the next append would be glued onto it.
 * Cut it off, but only when the file still ends with exactly our bytes: a concurrent appender's
 * line must never be truncated.
 */
function removeTornTail(fd: number, line: Buffer, written: number): void {
  if (written <= 0) return;
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(written);
    if (size < written || readSync(fd, tail, 0, written, size - written) !== written) return;
    if (tail.equals(line.subarray(0, written))) ftruncateSync(fd, size - written);
  } catch {
    // Nothing more can be done safely; the torn bytes stay unterminated and are never read as a record.
  }
}

/** Closes an append descriptor, ignoring an already-closed one. */
export function closeAppendFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
