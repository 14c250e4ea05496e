/**
 * The runtime side of local mode (docs/library.md): append the response to turn N and
 * hand back request N+1, the same text the `anti-call-llm` CLI prints.
 */
import { closeSync, existsSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { dataDirFromEnv } from '../config/defaults.js';
import { AbortedError, InvalidArgumentError, IndexRegressionError, LogNotFoundError, LogReplacedError, ScannerClosedError, UsageError } from '../errors.js';
// The modules themselves, not the log-file index: the index would load the CLI's file helpers into every turn.
import { appendLine, describeFileType, openAppendFd, unsafePathError } from '../log-file/append.js';
import { withAppendLock } from '../log-file/append-lock.js';
import { compactJson, decodeUtf8, encodeResponseLine } from '../protocol/index.js';
import { LOG_FILE_NAME, SESSION_END_BYTES } from '../protocol/markers.js';
import { openScanner, type LogScanner } from '../scanner/index.js';
import { ALL_KINDS, KindMask, RecordKind, type LogRecord } from '../scanner/types.js';
import type { RequestWaiters, WaitOptions } from './request-waiters.js';

export type { WaitOptions } from './request-waiters.js';

/**
 * What became of a response: `written`; `retry`, the same answer was already the latest response
 * (nothing written); `conflict`, another answer to the same index was already there: the first
 * answer stands and this one was not written.
 */
export type ResponseOutcome = 'written' | 'retry' | 'conflict';

export interface ModelClientOptions {
  /** Default `$ROCK_MODEL_SERVICE_DATA_DIR`, else `/data/logs`. */
  dataDir?: string;
  /** Default `<dataDir>/LLMService.log`. */
  logFile?: string;
}

/** Reads and answers the requests of one communication log. */
export class ModelClient {
  readonly logFile: string;
  private scanner: LogScanner | undefined;
  private waiters: RequestWaiters | undefined;
  private closed = false;

  constructor(options: ModelClientOptions = {}) {
    this.logFile = options.logFile ?? join(options.dataDir ?? dataDirFromEnv(), LOG_FILE_NAME);
  }

  /**
   * One runtime turn: with `index` 0, waits for request 1; with `index` N > 0, appends
   * `response` as response N (a retry of N is skipped) and waits for request N+1.
   * @returns the request JSON exactly as stored in the log, or `SESSION_END`.
   * @throws InvalidArgumentError (bad index), UsageError (response given or missing against
   *   the index), InvalidJsonError, IndexRegressionError, TimeoutError, AbortedError,
   *   LogReplacedError (the service restarted with a new log while waiting for request N+1, N >= 1).
   */
  async antiCallLlm(index: number, response?: string, options: WaitOptions = {}): Promise<string> {
    checkTurn(index, response);
    if (response !== undefined) await this.pushResponse(index, response);
    return this.popRequest(index + 1, options);
  }

  /**
   * Appends `response` (a JSON text) as response `index`, in one write, unless the latest
   * response already has this index (a retry: nothing is written).
   * @returns true when a line was written, false when the latest response already had this
   *   index (see appendResponse to tell a retry from a different answer).
   * @throws as appendResponse.
   */
  async pushResponse(index: number, response: string): Promise<boolean> {
    return (await this.appendResponse(index, response)) === 'written';
  }

  /**
   * Appends `response` (a JSON text) as response `index`. The look at the latest response and
   * the append are one step under the log's append lock, so of two runtimes answering `index`
   * at once exactly one writes; the other gets `retry` (same JSON) or `conflict` (another answer).
   * @returns what became of the response (see ResponseOutcome).
   * @throws InvalidArgumentError (index 0, or an index whose next one is past 2^53),
   *   InvalidJsonError (nothing written), IndexRegressionError when a later response is already
   *   in the log, LogNotFoundError when there is no log to answer, UnsafePathError when the log
   *   is a symbolic link or not a regular file, WriteFailedError.
   */
  async appendResponse(index: number, response: string): Promise<ResponseOutcome> {
    checkIndex(index);
    if (index === 0) throw new InvalidArgumentError('response indexes start at 1 (index 0 has no request to answer)');
    checkNextIndex(index);
    const compact = compactJson(response);
    this.openScanner();
    if (!existsSync(this.logFile)) throw this.logNotFound(index);
    return withAppendLock(this.logFile, () => {
      // Looked at again under the lock: another responder may have just written.
      const scanner = this.openScanner();
      const last = scanner.findLast(KindMask.Response);
      if (last !== null && last.index === index) return sameJson(scanner.readPayload(last), compact) ? 'retry' : 'conflict';
      if (last !== null && last.index > index) throw new IndexRegressionError(index, last.index);
      let fd: number;
      try {
        fd = openAppendFd(this.logFile, { create: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw this.logNotFound(index);
        throw err;
      }
      try {
        appendLine(fd, encodeResponseLine(compact, index));
      } finally {
        closeSync(fd);
      }
      return 'written';
    });
  }

  /**
   * Request `index`, waiting for it when it is not in the log yet. When a later request is
   * already there (the agent sent several at once), request `index` is found by reading
   * backwards from the latest one.
   * @returns the request JSON as stored, or `SESSION_END` when the latest request-or-session-end
   *   line is a session end (also when one arrives while waiting).
   * @throws InvalidArgumentError, InvalidUtf8Error, TimeoutError, AbortedError, UnsafePathError
   *   when the log's path holds a fifo, a directory or a device, LogReplacedError
   *   when a later request exists but request `index` is missing from the log,
   *   LogReplacedError when a new session starts in a replaced or truncated log while waiting
   *   for request 2 or later (a wait for request 1 goes on in the new log: a session starts there).
   */
  async popRequest(index: number, options: WaitOptions = {}): Promise<string> {
    return decodeUtf8(await this.popRequestBytes(index, options));
  }

  /**
   * popRequest without decoding: the stored bytes, for callers that pass them on as they are
   * (the CLI prints megabytes of request per turn).
   * @returns the request JSON's bytes as stored, or the bytes of `SESSION_END`.
   * @throws as popRequest, except InvalidUtf8Error.
   */
  async popRequestBytes(index: number, options: WaitOptions = {}): Promise<Buffer> {
    checkIndex(index);
    if (index === 0) throw new InvalidArgumentError('request indexes start at 1');
    const scanner = this.openScanner();
    const latest = scanner.findLast(KindMask.Request | KindMask.SessionEnd);
    if (latest !== null) {
      if (latest.kind === RecordKind.SessionEnd) return sessionEndBytes();
      if (latest.index === index) return scanner.readPayload(latest);
      if (latest.index > index) return scanner.readPayload(this.findRequestBefore(scanner, latest, index));
    }
    if (this.waiters === undefined) {
      // Loaded only when a wait is needed: a CLI turn whose request is already there skips the
      // watcher code. The log may have grown meanwhile, so look again: the look and the
      // registration of the wait must happen in one synchronous step, or a request delivered in
      // between would be missed.
      const { RequestWaiters } = await import('./request-waiters.js');
      if (this.closed) throw new AbortedError('the ModelClient was closed while waiting for a request');
      this.waiters ??= new RequestWaiters(this.logFile);
      return this.popRequestBytes(index, options);
    }
    // Nothing before `from` can be the request or a session end: the follower starts there.
    const from = (latest ?? scanner.findLast(ALL_KINDS))?.lineEnd ?? 0;
    return (await this.waiters.waitFor(index, from, options)) ?? sessionEndBytes();
  }

  /** Stops waiting (pending waits reject with AbortedError) and closes the log. */
  close(): void {
    this.closed = true;
    this.waiters?.close();
    this.waiters = undefined;
    this.scanner?.close();
    this.scanner = undefined;
  }

  private logNotFound(index: number): LogNotFoundError {
    return new LogNotFoundError(
      `there is no log at ${this.logFile} to append response ${index} to; start the model service ` +
        'or point ROCK_MODEL_SERVICE_DATA_DIR at its data dir',
    );
  }

  private openScanner(): LogScanner {
    if (this.closed) throw new ScannerClosedError('this ModelClient is closed; create a new one');
    refuseIrregularLog(this.logFile);
    if (this.scanner === undefined) {
      this.scanner = openScanner(this.logFile);
    } else if (this.scanner.isReplaced()) {
      // The service moves the old log aside at start: follow the path, not the old inode.
      this.scanner.reopen();
    }
    return this.scanner;
  }

  private findRequestBefore(scanner: LogScanner, latest: LogRecord, index: number): LogRecord {
    let record: LogRecord | null = latest;
    while (record !== null && record.index > index) {
      record = scanner.findLast(KindMask.Request, record.lineStart);
    }
    if (record === null || record.index !== index) {
      throw new LogReplacedError(
        `request ${index} is not in ${this.logFile}, although request ${latest.index} is; ` +
          'the log was probably replaced: restart the session from index 0',
      );
    }
    return record;
  }
}

/**
 * Checks one turn's arguments: index 0 takes no response, a later index needs one.
 * @throws InvalidArgumentError for an index that is not a whole number >= 0 or whose next index
 *   is past 2^53 (turn N reads request N+1), UsageError otherwise.
 */
export function checkTurn(index: number, response: string | undefined): void {
  checkIndex(index);
  checkNextIndex(index);
  if (index === 0 && response !== undefined) {
    throw new UsageError('index 0 starts a session and takes no response; pass a response only with index 1 or later');
  }
  if (index > 0 && response === undefined) {
    throw new UsageError(`index ${index} needs the response to request ${index}; pass it with --response or --response-file`);
  }
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new InvalidArgumentError(`index must be a whole number >= 0, got ${String(index)}`);
  }
}

/**
 * Opening a fifo for reading waits for a writer, past any timeout, and a directory has no lines:
 * a log path that holds one is refused at once. A missing log is fine (the wait is for it).
 */
function refuseIrregularLog(path: string): void {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return;
  }
  if (!stats.isFile()) throw unsafePathError('the log', path, describeFileType(stats));
}

/** Response N is followed by request N+1: an N whose successor is no exact number would poison the log. */
function checkNextIndex(index: number): void {
  if (!Number.isSafeInteger(index + 1)) {
    throw new InvalidArgumentError(`index ${index} has no next index below 2^53 (${Number.MAX_SAFE_INTEGER} is the last one); nothing was written`);
  }
}

/** Whether the stored payload is the same JSON as `compact` (a writer other than ours may space it differently). */
function sameJson(stored: Buffer, compact: string): boolean {
  if (stored.equals(Buffer.from(compact, 'utf8'))) return true;
  try {
    return compactJson(decodeUtf8(stored)) === compact;
  } catch {
    return false;
  }
}

/** A copy of the marker's bytes: the caller owns what it gets, and the scanners compare against the original. */
function sessionEndBytes(): Buffer {
  return Buffer.from(SESSION_END_BYTES);
}
