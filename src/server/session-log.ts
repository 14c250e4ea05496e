/**
 * The local service's side of the communication log: it numbers the
 * requests and appends request lines and the one SESSION_END line. Reading is the follower's job.
 */
import { lstatSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError, LogUnavailableError, UnsafePathError } from '../errors.js';
import { appendLine, closeAppendFd, describeFileType, openAppendFd, unsafePathError } from '../log-file/index.js';
import { encodeRequestLine, PREVIOUS_LOG_SUFFIX, SESSION_END_LINE } from '../protocol/index.js';

export class SessionLog {
  readonly path: string;
  #fd: number;
  #nextIndex = 1;
  #ended = false;
  /** reopen() failed: #fd is the file that left the path, and each write first tries again. */
  #lost = false;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /**
   * Starts a new session log: creates the data dir, moves an existing log aside to
   * `<log>.prev` (the reference deletes it; we lose nothing), creates a new empty log. Only a
   * regular file is moved, and the new one is created exclusively: a symbolic link at the path
   * (dangling or not) is neither followed nor written through.
   * @throws UnsafePathError when the path holds a symbolic link, a fifo, a directory or a device,
   *   or something is created there while the service starts; the file system's error (EACCES,
   *   ENOSPC…) when the dir or the log cannot be made.
   */
  static start(dataDir: string, path: string): SessionLog {
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(dirname(path), { recursive: true });
    moveAside(path);
    try {
      return new SessionLog(path, openAppendFd(path, { exclusive: true }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      throw new UnsafePathError(path, `something created ${path} while the service was starting; check what else writes to the data dir, then start again`);
    }
  }

  /** Returns the index the next request line gets (1, 2, 3, … in arrival order). */
  get nextIndex(): number {
    return this.#nextIndex;
  }

  /** Returns whether this service wrote SESSION_END. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Appends the request line of `index`, which must be `nextIndex`; the index is used up
   * only when the write succeeded, so a failed write leaves no gap in the numbering. The
   * payload may be given as its UTF-8 bytes (the body itself when it was already compact), so
   * that a text of megabytes is not encoded again. `endpoint` names an agent API other than
   * Chat Completions in the meta.
   * @throws WriteFailedError when the line could not be written whole; InvalidArgumentError for another index.
   */
  appendRequest(compact: string | Buffer, index: number, endpoint?: string): void {
    if (index !== this.#nextIndex) {
      throw new InvalidArgumentError(`request index ${index} is not the next index ${this.#nextIndex}`);
    }
    this.#retryReopen();
    appendLine(this.#fd, encodeRequestLine(compact, index, { endpoint }));
    this.#nextIndex = index + 1;
  }

  /**
   * Appends SESSION_END unless this service already did.
   * @returns whether the line was written now.
   * @throws WriteFailedError when it could not be written.
   */
  endSession(): boolean {
    if (this.#ended) return false;
    this.#retryReopen();
    appendLine(this.#fd, SESSION_END_LINE);
    this.#ended = true;
    return true;
  }

  /**
   * Opens the path again after the log was replaced (a new inode under the name), so that
   * later request lines go where the runtime reads, not into the file that was moved away.
   * When that fails (the data dir was deleted), every later write tries again first and,
   * while it still fails, is refused: nothing goes into a file the runtime no longer sees.
   * @throws UnsafePathError when the path is now a symbolic link or not a regular file; the open(2)
   *   error otherwise.
   */
  reopen(): void {
    let fd: number;
    try {
      fd = openAppendFd(this.path);
    } catch (err) {
      this.#lost = true;
      throw err;
    }
    closeAppendFd(this.#fd);
    this.#fd = fd;
    this.#lost = false;
  }

  /** The log left its path (its follower says so): the next write opens the path again first. */
  markLost(): void {
    this.#lost = true;
  }

  /** @throws LogUnavailableError while the log's path cannot be opened again. */
  #retryReopen(): void {
    if (!this.#lost) return;
    try {
      this.reopen();
    } catch (err) {
      // A link or a fifo put at the path is not "gone": say what is there.
      if (err instanceof UnsafePathError) throw new LogUnavailableError(`${err.message}; nothing was written`, { cause: err });
      const code = (err as NodeJS.ErrnoException).code ?? 'an error';
      throw new LogUnavailableError(
        `the log ${this.path} is gone and cannot be created again (${code}): its directory was deleted or is not usable; ` +
          `nothing was written; re-create ${dirname(this.path)} and the service goes on by itself`,
        { cause: err },
      );
    }
  }

  /** Closes the append descriptor. */
  close(): void {
    closeAppendFd(this.#fd);
  }
}

/** Moves the previous log aside; only a regular file: anything else at the path is refused, never followed. */
function moveAside(path: string): void {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stats.isFile()) throw unsafePathError('the log', path, describeFileType(stats));
  // rename(2) never follows links: whatever replaced the file meanwhile is moved, not its target.
  renameSync(path, `${path}${PREVIOUS_LOG_SUFFIX}`);
}
