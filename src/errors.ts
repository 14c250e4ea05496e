/**
 * Every error this package throws on purpose, in one table: each code with its HTTP status,
 * the CLI's exit status, whether a retry can help (`x-should-retry`), and its default message.
 * One class per code. Callers switch on `code` (or `instanceof`), never on message text.
 *
 * `instanceof` works across copies of the package (the library entry and the CLI bundle, or
 * two installed versions): the classes brand their instances with a `Symbol.for` key and
 * match by code, as undici's errors do.
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_TIMEOUT = 3;

/** What a code means to the HTTP layer and to the CLI. */
export interface ErrorSpec {
  /** HTTP status of an answer carrying this error. */
  readonly status: number;
  /** Exit status of a CLI command that fails with it. */
  readonly exit: number;
  /** Whether the same request may succeed if sent again (false: `x-should-retry: false`). */
  readonly retry: boolean;
  /** The message when the thrower gives none. */
  readonly message: string;
}

const ERROR_TABLE = {
  RMS_INVALID_JSON: { status: 400, exit: EXIT_BAD_INPUT, retry: false, message: 'the payload is not valid JSON; send one JSON value' },
  RMS_INVALID_UTF8: { status: 400, exit: EXIT_BAD_INPUT, retry: false, message: 'the payload is not valid UTF-8; send UTF-8 text' },
  RMS_INVALID_ARGUMENT: { status: 400, exit: EXIT_BAD_INPUT, retry: false, message: 'an argument is out of its domain' },
  RMS_USAGE: { status: 400, exit: EXIT_BAD_INPUT, retry: false, message: 'wrong usage; see `rock model-service --help`' },
  RMS_CONFIG: { status: 400, exit: EXIT_BAD_INPUT, retry: false, message: 'the configuration is wrong' },
  RMS_INDEX_REGRESSION: { status: 409, exit: EXIT_BAD_INPUT, retry: false, message: 'the response index is lower than the last response already written' },
  RMS_NOT_FOUND: { status: 404, exit: EXIT_FAILURE, retry: false, message: 'no such route on this service' },
  RMS_METHOD_NOT_ALLOWED: { status: 405, exit: EXIT_FAILURE, retry: false, message: 'the route does not take this method' },
  RMS_BODY_TOO_LARGE: {
    status: 413,
    exit: EXIT_BAD_INPUT,
    retry: false,
    message: 'the request body is larger than the service accepts; send a smaller conversation, or raise the body limit',
  },
  RMS_BAD_HTTP: { status: 400, exit: EXIT_FAILURE, retry: false, message: 'the HTTP request is malformed' },
  RMS_HEADERS_TOO_LARGE: { status: 431, exit: EXIT_FAILURE, retry: false, message: 'the request headers are larger than the service accepts' },
  RMS_BODY_TIMEOUT: { status: 408, exit: EXIT_FAILURE, retry: true, message: 'the request body did not arrive in time; send it again' },
  RMS_BUSY: {
    status: 503,
    exit: EXIT_FAILURE,
    retry: true,
    message: 'the service holds as many request bodies in memory as it allows; send the request again shortly',
  },
  RMS_SESSION_ENDED: {
    status: 500,
    exit: EXIT_FAILURE,
    retry: false,
    message: 'the session has ended (SESSION_END is in the log): the agent process exited; start a new session',
  },
  RMS_TIMEOUT: { status: 504, exit: EXIT_TIMEOUT, retry: true, message: 'the wait passed its deadline' },
  RMS_ABORTED: { status: 503, exit: EXIT_FAILURE, retry: true, message: 'the operation was aborted' },
  RMS_LOG_NOT_FOUND: { status: 500, exit: EXIT_FAILURE, retry: true, message: 'the log does not exist (yet)' },
  RMS_LOG_REPLACED: { status: 500, exit: EXIT_FAILURE, retry: true, message: 'the log changed under its reader' },
  RMS_LOG_UNAVAILABLE: {
    status: 503,
    exit: EXIT_FAILURE,
    retry: true,
    message: 'the log is gone or cannot be opened; the service goes on by itself once its path is usable again',
  },
  RMS_WRITE_FAILED: { status: 500, exit: EXIT_FAILURE, retry: true, message: 'appending to the log failed; nothing usable was written' },
  RMS_UNSAFE_PATH: {
    status: 500,
    exit: EXIT_FAILURE,
    retry: false,
    message: 'a file the service writes is a symbolic link or not a regular file; remove it and retry',
  },
  RMS_NATIVE_UNAVAILABLE: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'the native scanner could not be loaded' },
  RMS_NATIVE_LOAD_FAILED: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'a native scanner binary exists but could not be used' },
  RMS_SCANNER_CLOSED: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'the scanner is closed; open a new one' },
  RMS_ALREADY_RUNNING: { status: 409, exit: EXIT_FAILURE, retry: false, message: 'the model service is already running' },
  RMS_NOT_RUNNING: { status: 503, exit: EXIT_FAILURE, retry: true, message: 'no model service answers; start it with `rock model-service start`' },
  RMS_SERVICE_REFUSED: { status: 502, exit: EXIT_FAILURE, retry: false, message: 'the model service refused the request' },
  RMS_START_FAILED: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'the model service did not start' },
  RMS_STOP_FAILED: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'the model service could not be stopped' },
  RMS_UPSTREAM: { status: 502, exit: EXIT_FAILURE, retry: true, message: 'the upstream model failed' },
  RMS_RESPONSE_TOO_LARGE: {
    status: 502,
    exit: EXIT_FAILURE,
    retry: false,
    message: "the upstream's answer is larger than the proxy holds (response_limit); raise response_limit or ask the model for less",
  },
  RMS_REPLAY_EXHAUSTED: { status: 404, exit: EXIT_FAILURE, retry: false, message: 'every recorded call of the replay file was served' },
  RMS_UNKNOWN_RESPONSE: {
    status: 400,
    exit: EXIT_BAD_INPUT,
    retry: false,
    message: 'previous_response_id names no response this service keeps; send the whole conversation in input',
  },
  RMS_BAD_RESPONSE: { status: 502, exit: EXIT_FAILURE, retry: true, message: "the runtime's response cannot answer this call" },
  RMS_SANDBOX_COMMAND: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'a command in the sandbox failed' },
  RMS_SANDBOX_STATE: { status: 500, exit: EXIT_FAILURE, retry: false, message: 'a ModelService method was called out of order' },
  RMS_INTERNAL: { status: 500, exit: EXIT_FAILURE, retry: true, message: 'internal error in the model service; see the service log' },
} as const satisfies Record<string, ErrorSpec>;

/** Every stable error code. */
export type ErrorCode = keyof typeof ERROR_TABLE;

/** Every code with what it means, for documentation and tests. */
export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorSpec>> = ERROR_TABLE;

/** Returns the spec of `code`. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERROR_TABLE[code];
}

const BRAND = Symbol.for('rock-model-service.error');

type ErrorClass = { readonly code?: ErrorCode };

/** Base class of every error this package throws on purpose; never thrown itself. */
export abstract class ModelServiceError extends Error {
  /** The code of instances of this class (set by each subclass). */
  static readonly code?: ErrorCode;
  readonly code: ErrorCode;

  constructor(message?: string, options?: { cause?: unknown }) {
    const code = (new.target as ErrorClass).code;
    if (code === undefined) throw new TypeError(`${new.target.name} declares no error code`);
    super(message ?? ERROR_TABLE[code].message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** HTTP status of an answer carrying this error. */
  get httpStatus(): number {
    return ERROR_TABLE[this.code].status;
  }

  /** Exit status of a CLI command that fails with it. */
  get exitStatus(): number {
    return ERROR_TABLE[this.code].exit;
  }

  /** Whether sending the same request again may succeed. */
  get retryable(): boolean {
    return ERROR_TABLE[this.code].retry;
  }

  /** Matches instances of any copy of this package: by brand, then by the class's code. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[BRAND] !== true) return false;
    const code = (this as ErrorClass).code;
    return code === undefined || (value as { code?: unknown }).code === code;
  }
}
Object.defineProperty(ModelServiceError.prototype, BRAND, { value: true });

/** A payload that is not valid JSON; `position` is the UTF-16 offset where it broke, when known. */
export class InvalidJsonError extends ModelServiceError {
  static override readonly code = 'RMS_INVALID_JSON';
  readonly position: number | undefined;
  constructor(message?: string, position?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.position = position;
  }
}

/** Bytes that are not valid UTF-8 where text was required. */
export class InvalidUtf8Error extends ModelServiceError {
  static override readonly code = 'RMS_INVALID_UTF8';
}

/** A function or command argument out of its domain (negative index, offset past 2^53…). */
export class InvalidArgumentError extends ModelServiceError {
  static override readonly code = 'RMS_INVALID_ARGUMENT';
}

/** A command used the wrong way (missing or contradictory flags). */
export class UsageError extends ModelServiceError {
  static override readonly code = 'RMS_USAGE';
}

/** A configuration file, flag or variable that is wrong; the message names the key (and the file). */
export class ConfigError extends ModelServiceError {
  static override readonly code = 'RMS_CONFIG';
  readonly key: string | undefined;
  constructor(message?: string, key?: string) {
    super(message);
    this.key = key;
  }
}

/** A response index lower than the last one already written. */
export class IndexRegressionError extends ModelServiceError {
  static override readonly code = 'RMS_INDEX_REGRESSION';
  readonly index: number;
  readonly lastIndex: number;
  constructor(index: number, lastIndex: number) {
    super(
      `response index ${index} is lower than the last response already written (${lastIndex}); ` +
        `continue from index ${lastIndex} or later`,
    );
    this.index = index;
    this.lastIndex = lastIndex;
  }
}

/** An HTTP request for a route this service does not have. */
export class RouteNotFoundError extends ModelServiceError {
  static override readonly code = 'RMS_NOT_FOUND';
}

/** A known route asked with a method it does not take. */
export class MethodNotAllowedError extends ModelServiceError {
  static override readonly code = 'RMS_METHOD_NOT_ALLOWED';
}

/** A request body over the configured limit. */
export class BodyTooLargeError extends ModelServiceError {
  static override readonly code = 'RMS_BODY_TOO_LARGE';
}

/** An HTTP request the parser refused (bad framing, bad header). */
export class BadHttpRequestError extends ModelServiceError {
  static override readonly code = 'RMS_BAD_HTTP';
}

/** Request headers over the parser's limit. */
export class HeadersTooLargeError extends ModelServiceError {
  static override readonly code = 'RMS_HEADERS_TOO_LARGE';
}

/** A request body that did not arrive whole within the time allowed. */
export class BodyTimeoutError extends ModelServiceError {
  static override readonly code = 'RMS_BODY_TIMEOUT';
}

/** The bodies of the requests in flight already hold the memory the service allows for them. */
export class BusyError extends ModelServiceError {
  static override readonly code = 'RMS_BUSY';
}

/** The session ended (SESSION_END) while, or before, a call waited for its answer. */
export class SessionEndedError extends ModelServiceError {
  static override readonly code = 'RMS_SESSION_ENDED';
}

/** A wait passed its deadline. */
export class TimeoutError extends ModelServiceError {
  static override readonly code = 'RMS_TIMEOUT';
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super(message);
    this.timeoutMs = timeoutMs;
  }
}

/** A wait was cancelled through its AbortSignal, because its caller went away, or because the service stops. */
export class AbortedError extends ModelServiceError {
  static override readonly code = 'RMS_ABORTED';
}

/** The log a payload was to be read from, or appended to, does not exist (yet). */
export class LogNotFoundError extends ModelServiceError {
  static override readonly code = 'RMS_LOG_NOT_FOUND';
}

/** The log changed under a reader (truncated, or replaced by another file) while it read. */
export class LogReplacedError extends ModelServiceError {
  static override readonly code = 'RMS_LOG_REPLACED';
}

/** The service's log is gone (its data dir deleted) or replaced by something it cannot open; agents are refused until it is usable again. */
export class LogUnavailableError extends ModelServiceError {
  static override readonly code = 'RMS_LOG_UNAVAILABLE';
}

/** Appending a line to the log failed (disk full, file-size limit, short write); nothing usable was written. */
export class WriteFailedError extends ModelServiceError {
  static override readonly code = 'RMS_WRITE_FAILED';
}

/**
 * A file this package opens for writing (the log, the pid file, `service.json`, `service.log`) is
 * a symbolic link, a fifo, a directory or a device: it is refused rather than followed, because the
 * service often runs as root and would otherwise write wherever the link points.
 */
export class UnsafePathError extends ModelServiceError {
  static override readonly code = 'RMS_UNSAFE_PATH';
  readonly path: string;
  constructor(path: string, message?: string) {
    super(message);
    this.path = path;
  }
}

/** The forced native scanner could not be loaded; `attempts` says where the loader looked and why each failed. */
export class NativeUnavailableError extends ModelServiceError {
  static override readonly code = 'RMS_NATIVE_UNAVAILABLE';
  readonly attempts: readonly { place: string; reason: string }[];
  constructor(attempts: readonly { place: string; reason: string }[]) {
    super(
      'ROCK_MS_SCANNER=native, but no native scanner could be loaded. Tried:\n' +
        attempts.map((a) => `  - ${a.place}: ${a.reason}`).join('\n') +
        '\nInstall the platform package (npm installs it as an optional dependency; do not use --omit=optional), ' +
        'build the addon in a clone with `npm run build`, or unset ROCK_MS_SCANNER to use the TypeScript scanner.',
    );
    this.attempts = attempts;
  }
}

/** A native binary that exists but cannot be used (reported as a warning; the TypeScript scanner runs). */
export class NativeLoadFailedError extends ModelServiceError {
  static override readonly code = 'RMS_NATIVE_LOAD_FAILED';
}

/** A scanner (or something holding one) was used after close(). */
export class ScannerClosedError extends ModelServiceError {
  static override readonly code = 'RMS_SCANNER_CLOSED';
}

/** `start` found a live service already holding the pid file or the data dir. */
export class AlreadyRunningError extends ModelServiceError {
  static override readonly code = 'RMS_ALREADY_RUNNING';
}

/** No service answers where one was expected. */
export class NotRunningError extends ModelServiceError {
  static override readonly code = 'RMS_NOT_RUNNING';
}

/** The running service answered a CLI request with an error. */
export class ServiceRefusedError extends ModelServiceError {
  static override readonly code = 'RMS_SERVICE_REFUSED';
}

/** The service `start` launched died, or never became healthy. */
export class StartFailedError extends ModelServiceError {
  static override readonly code = 'RMS_START_FAILED';
}

/** `stop` could not signal the service, or it survived SIGKILL. */
export class StopFailedError extends ModelServiceError {
  static override readonly code = 'RMS_STOP_FAILED';
}

/** Proxy mode: the upstream could not be reached or failed on every attempt. */
export class UpstreamError extends ModelServiceError {
  static override readonly code = 'RMS_UPSTREAM';
}

/** Proxy mode: the upstream's answer (not a stream) passed response_limit; the proxy stopped reading it. */
export class ResponseTooLargeError extends ModelServiceError {
  static override readonly code = 'RMS_RESPONSE_TOO_LARGE';
}

/** Proxy replay: every recorded call was served. */
export class ReplayExhaustedError extends ModelServiceError {
  static override readonly code = 'RMS_REPLAY_EXHAUSTED';
}

/**
 * A Responses call whose `previous_response_id` the service does not keep (never made here,
 * made with `store: false`, evicted by the store's bound, or made before a restart).
 */
export class UnknownResponseError extends ModelServiceError {
  static override readonly code = 'RMS_UNKNOWN_RESPONSE';
  readonly responseId: string;
  constructor(responseId: string, message?: string) {
    super(message);
    this.responseId = responseId;
  }
}

/** A response the runtime wrote that cannot answer the call waiting for it (not UTF-8, not JSON, not convertible). */
export class BadResponseError extends ModelServiceError {
  static override readonly code = 'RMS_BAD_RESPONSE';
  readonly index: number;
  constructor(index: number, message?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.index = index;
  }
}

/** A command run in a sandbox failed or timed out; carries what the caller needs to see why. */
export class SandboxCommandError extends ModelServiceError {
  static override readonly code = 'RMS_SANDBOX_COMMAND';
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
    super(message);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.timedOut = details.timedOut;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** A ModelService method called out of order (start before install, anti-call before start…). */
export class SandboxStateError extends ModelServiceError {
  static override readonly code = 'RMS_SANDBOX_STATE';
}

/** Something failed that no other code describes; the service log has the details. */
export class InternalError extends ModelServiceError {
  static override readonly code = 'RMS_INTERNAL';
}
