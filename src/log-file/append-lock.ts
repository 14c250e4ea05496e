/**
 * One responder at a time per log (the look at the latest response and the
 * append of a new one are one step, so two runtimes answering N at once cannot both write). The
 * lock is a file beside the log, `LLMService.log.lock`, created exclusively, holding its holder's
 * pid and process start time, and removed when the step is done. The service's own appends
 * (request lines, SESSION_END) need no lock: one write(2) per line on O_APPEND never interleaves.
 *
 * A lock file outlives a holder killed inside the step. The next responder sees that the holder
 * is gone (or that a lock file still empty is older than a second) and removes it; removals are
 * serialised by a socket lock and re-checked under it, so a live holder's file is never removed.
 * Why not a socket lock for every step: loading node:net and binding one cost about 4 ms per
 * turn here, the file 0.1–0.25 ms (measured on a loaded 2-core machine).
 */
import { closeSync, constants, fstatSync, lstatSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TimeoutError } from '../errors.js';
import { isProcessRunning, processStartTime } from '../process/process-state.js';
import { describeFileType, openRegularFile, unsafePathError } from './append.js';

const WHAT = "the log's lock file";
/** A holder writes its pid right after creating the file: an empty file this old lost its holder. */
const EMPTY_STALE_MS = 1000;
/** A step takes milliseconds; a holder past this is stuck, and the responder says so. */
const WAIT_LIMIT_MS = 30_000;
const MAX_BACKOFF_MS = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type LockState = { state: 'gone' } | { state: 'stale' } | { state: 'live'; pid: number | undefined };

/** Errors that keep the lock file from being made while the log itself may still take a line or say why not. */
const CANNOT_LOCK = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);

/**
 * Runs `step` while holding the append lock of `logFile`. When the lock file cannot be made at
 * all (a data dir the runtime may not write to though the log is writable, or a full disk,
 * where the append then fails with its own clear error), `step` runs unguarded, as appends did
 * before the lock existed.
 * @returns what `step` returns.
 * @throws UnsafePathError when the lock file's path holds a link or anything but a regular file;
 *   TimeoutError when a live holder keeps the lock for 30 s; what `step` throws.
 */
export async function withAppendLock<T>(logFile: string, step: () => T): Promise<T> {
  const lockFile = `${logFile}.lock`;
  // Uncontended (nearly every turn), the lock is taken without yielding to the event loop: a
  // yield here let unrelated I/O run inside every runtime turn.
  let taken = tryAcquire(lockFile);
  if (taken === HELD) taken = await acquire(lockFile);
  try {
    return step();
  } finally {
    if (taken !== undefined) release(lockFile, taken);
  }
}

/** tryAcquire's answer while another responder holds the lock. */
const HELD = -1;
/** This process's line in a lock file it holds (its start time tells it from a later process with its pid). */
let identity: string | undefined;

/**
 * One attempt at the lock file.
 * @returns its inode when this process created it, HELD when it exists, undefined when no lock can be made here.
 */
function tryAcquire(lockFile: string): number | undefined {
  let fd: number;
  try {
    fd = openRegularFile(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, WHAT);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (CANNOT_LOCK.has(code)) return undefined;
    if (code === 'EEXIST') return HELD;
    throw err;
  }
  try {
    identity ??= `${process.pid} ${processStartTime(process.pid) ?? 0}\n`;
    writeSync(fd, identity);
    return fstatSync(fd).ino;
  } catch (err) {
    // Ours, created a moment ago; were the unlink to fail too, the empty file goes stale in a second.
    try {
      unlinkSync(lockFile);
    } catch {
      // See above.
    }
    if (CANNOT_LOCK.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** Waits for the lock held by another responder, removing it when its holder is gone. @returns as tryAcquire, never HELD. */
async function acquire(lockFile: string): Promise<number | undefined> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (let backoff = 1; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
    const holder = inspect(lockFile);
    if (holder.state === 'stale') await removeStale(lockFile);
    else if (holder.state === 'live') {
      if (Date.now() >= deadline) {
        throw new TimeoutError(
          `${lockFile} has been held by ${holder.pid === undefined ? 'another process' : `pid ${holder.pid}`} for ${WAIT_LIMIT_MS / 1000} s ` +
            'while another runtime answered this log; if that process is stuck, stop it, then retry',
          WAIT_LIMIT_MS,
        );
      }
      await sleep(backoff);
    }
    const taken = tryAcquire(lockFile);
    if (taken !== HELD) return taken;
  }
}

function release(lockFile: string, ino: number): void {
  try {
    if (lstatSync(lockFile).ino === ino) unlinkSync(lockFile);
  } catch {
    // Already gone: nothing of ours to remove.
  }
}

/** What holds the lock file now. */
function inspect(lockFile: string): LockState {
  let text: string;
  let mtimeMs: number;
  try {
    const stats = lstatSync(lockFile);
    if (!stats.isFile()) throw unsafePathError(WHAT, lockFile, describeFileType(stats));
    mtimeMs = stats.mtimeMs;
    text = readHolder(lockFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    throw err;
  }
  const [pid, startTime] = text.trim().split(' ').map(Number);
  if (!Number.isSafeInteger(pid) || pid! <= 0 || !Number.isSafeInteger(startTime)) {
    return Date.now() - mtimeMs > EMPTY_STALE_MS ? { state: 'stale' } : { state: 'live', pid: undefined };
  }
  const now = processStartTime(pid!);
  // Start time 0: the holder could not read its own (no /proc); its pid alone must do.
  const alive = isProcessRunning(pid!) && (startTime === 0 || now === undefined || now === startTime);
  return alive ? { state: 'live', pid } : { state: 'stale' };
}

/** The lock file's text: a pid and a start time, a few dozen bytes. */
function readHolder(lockFile: string): string {
  const fd = openRegularFile(lockFile, constants.O_RDONLY, WHAT);
  try {
    const buf = Buffer.alloc(64);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a lock file whose holder is gone. Only removers touch a stale file (its holder cannot,
 * and nobody can create one while it exists), so a removal serialised with the others and
 * preceded by a fresh look removes exactly the stale file, never a live holder's.
 */
async function removeStale(lockFile: string): Promise<void> {
  const { tryLock } = await import('../process/socket-lock.js');
  const stats = lstatSync(dirname(lockFile));
  const name = `stale-lock:${stats.dev}:${stats.ino}`;
  for (let backoff = 1; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
    const lock = await tryLock(name);
    if (lock === undefined) {
      await sleep(backoff);
      continue;
    }
    try {
      if (inspect(lockFile).state === 'stale') unlinkSync(lockFile);
    } finally {
      await lock.release();
    }
    return;
  }
}
