/**
 * Errors with stable codes. Callers switch on `code`, never on message text; the CLI maps
 * codes to exit statuses and the HTTP layer maps them to status codes and OpenAI error bodies.
 */
export type ErrorCode =
  | 'RMS_ERROR'
  | 'RMS_INVALID_JSON'
  | 'RMS_INVALID_UTF8'
  | 'RMS_INVALID_ARGUMENT'
  | 'RMS_USAGE'
  | 'RMS_INDEX_REGRESSION'
  | 'RMS_SESSION_ENDED'
  | 'RMS_TIMEOUT'
  | 'RMS_ABORTED'
  | 'RMS_LOG_NOT_FOUND'
  | 'RMS_LOG_REPLACED'
  | 'RMS_WRITE_FAILED'
  | 'RMS_NATIVE_UNAVAILABLE'
  | 'RMS_SCANNER_CLOSED'
  | 'RMS_CONFIG'
  | 'RMS_ALREADY_RUNNING'
  | 'RMS_NOT_RUNNING'
  | 'RMS_UPSTREAM'
  | 'RMS_REPLAY_EXHAUSTED'
  | 'RMS_SANDBOX_COMMAND'
  | 'RMS_SANDBOX_STATE'
  | 'RMS_BAD_RESPONSE';

/** Base class of every error this package throws on purpose. */
export class ModelServiceError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A payload that is not valid JSON; `position` is the UTF-16 offset where it broke, when known. */
export class InvalidJsonError extends ModelServiceError {
  readonly position: number | undefined;
  constructor(message: string, position?: number, options?: { cause?: unknown }) {
    super('RMS_INVALID_JSON', message, options);
    this.position = position;
  }
}

/** Bytes that are not valid UTF-8 where text was required. */
export class InvalidUtf8Error extends ModelServiceError {
  constructor(message: string) {
    super('RMS_INVALID_UTF8', message);
  }
}

/** A function or command argument out of its domain (negative index, offset past 2^53…). */
export class InvalidArgumentError extends ModelServiceError {
  constructor(message: string) {
    super('RMS_INVALID_ARGUMENT', message);
  }
}

/** A command used the wrong way (missing or contradictory flags). */
export class UsageError extends ModelServiceError {
  constructor(message: string) {
    super('RMS_USAGE', message);
  }
}

/** A response index lower than the last one already written. */
export class IndexRegressionError extends ModelServiceError {
  readonly index: number;
  readonly lastIndex: number;
  constructor(index: number, lastIndex: number) {
    super(
      'RMS_INDEX_REGRESSION',
      `response index ${index} is lower than the last response already written (${lastIndex}); ` +
        `continue from index ${lastIndex} or later`,
    );
    this.index = index;
    this.lastIndex = lastIndex;
  }
}

/** The session ended (SESSION_END) while, or before, a call waited for its answer. */
export class SessionEndedError extends ModelServiceError {
  constructor(message = 'the session has ended (SESSION_END is in the log): the agent process exited; start a new session') {
    super('RMS_SESSION_ENDED', message);
  }
}

/** A wait passed its deadline. */
export class TimeoutError extends ModelServiceError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super('RMS_TIMEOUT', message);
    this.timeoutMs = timeoutMs;
  }
}

/** A wait was cancelled through its AbortSignal or because its caller went away. */
export class AbortedError extends ModelServiceError {
  constructor(message = 'the operation was aborted') {
    super('RMS_ABORTED', message);
  }
}

/** The forced native scanner could not be loaded; `attempts` says where the loader looked and why each failed. */
export class NativeUnavailableError extends ModelServiceError {
  readonly attempts: readonly { place: string; reason: string }[];
  constructor(attempts: readonly { place: string; reason: string }[]) {
    super(
      'RMS_NATIVE_UNAVAILABLE',
      'ROCK_MS_SCANNER=native, but no native scanner could be loaded. Tried:\n' +
        attempts.map((a) => `  - ${a.place}: ${a.reason}`).join('\n') +
        '\nInstall the platform package (npm installs it as an optional dependency; do not use --omit=optional), ' +
        'build the addon in a clone with `npm run build`, or unset ROCK_MS_SCANNER to use the TypeScript scanner.',
    );
    this.attempts = attempts;
  }
}

/** Appending a line to the log failed (disk full, file-size limit, short write); nothing usable was written. */
export class WriteFailedError extends ModelServiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RMS_WRITE_FAILED', message, options);
  }
}

/** A configuration file or flag that is wrong; the message names the key (and the file). */
export class ConfigError extends ModelServiceError {
  readonly key: string | undefined;
  constructor(message: string, key?: string) {
    super('RMS_CONFIG', message);
    this.key = key;
  }
}

/** A command run in a sandbox failed or timed out; carries what the caller needs to see why. */
export class SandboxCommandError extends ModelServiceError {
  readonly command: string;
  /** null when the command was killed (timeout or signal) before it could exit. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  constructor(
    message: string,
    details: { command: string; exitCode: number | null; timedOut: boolean; stdout: string; stderr: string },
  ) {
    super('RMS_SANDBOX_COMMAND', message);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.timedOut = details.timedOut;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** A ModelService method called out of order (start before install, anti-call before start…). */
export class SandboxStateError extends ModelServiceError {
  constructor(message: string) {
    super('RMS_SANDBOX_STATE', message);
  }
}

/** The log a payload was to be read from does not exist (yet). */
export class LogNotFoundError extends ModelServiceError {
  constructor(message: string) {
    super('RMS_LOG_NOT_FOUND', message);
  }
}

/** The log changed under a reader (truncated, or replaced by another file) while it read. */
export class LogReplacedError extends ModelServiceError {
  constructor(message: string) {
    super('RMS_LOG_REPLACED', message);
  }
}

/** A scanner (or something holding one) was used after close(). */
export class ScannerClosedError extends ModelServiceError {
  constructor(message: string) {
    super('RMS_SCANNER_CLOSED', message);
  }
}

/** A response line the runtime wrote whose payload is not UTF-8 or not JSON; the call waiting for it cannot be answered with it. */
export class BadResponseError extends ModelServiceError {
  readonly index: number;
  constructor(index: number, message: string, options?: { cause?: unknown }) {
    super('RMS_BAD_RESPONSE', message, options);
    this.index = index;
  }
}
