/**
 * rock-model-service: the public surface, exactly what docs/library.md documents (one heading
 * per name; test/docs/exports.test.ts compares the two). Modules not re-exported are internal.
 *
 * Every name is listed, never `export *`: the bundle serves grouped modules from shared chunks
 * (scripts/bundle.mjs), and `export * from` a grouped module becomes `export *` of its whole
 * chunk, which published every internal of the anti-call path (189 names).
 */
export { ModelClient, type ModelClientOptions, type ResponseOutcome, type WaitOptions } from './client/model-client.js';
export type { RunningServer } from './server/index.js';
export type { LoadConfigOptions } from './config/load.js';
export { resolveServiceConfig, type ServiceConfigInput, type ProxyRuleInput } from './config/resolve.js';
export type { ServiceConfig, UpstreamApi } from './config/types.js';
export {
  ModelService,
  LocalSandbox,
  modelServiceConfig,
  DEFAULT_MODEL_SERVICE_CONFIG,
  DEFAULT_INSTALL_CMDS,
  RESPONSE_FILE_THRESHOLD_BYTES,
  shellQuote,
  type ModelServiceConfig,
  type ModelServiceConfigInput,
  type InstallFrom,
  type RuntimeEnvConfig,
  type LegacyModelServiceFields,
  type Sandbox,
  type SandboxRunOptions,
  type SandboxRunResult,
  type UploadSource,
  type LocalSandboxOptions,
  type AntiCallOptions,
  type ModelServiceLogger,
} from './sandbox/index.js';
export {
  openScanner,
  getScanEngine,
  availableEngines,
  RecordKind,
  KindMask,
  RECORD_STRIDE,
  recordAt,
  type LogScanner,
  type LogIdentity,
  type LogRecord,
  type ScanResult,
  type ScanOptions,
  type ScanEngine,
} from './scanner/index.js';
export { LogFollower, type LogFollowerOptions, type LogUnavailable, type ResetReason } from './follower/index.js';
export {
  compactJson,
  parseJsonText,
  decodeUtf8,
  encodeRequestLine,
  encodeResponseLine,
  SESSION_END_LINE,
  REQUEST_START,
  REQUEST_END,
  RESPONSE_START,
  RESPONSE_END,
  SESSION_END,
  type ParsedJson,
  type RequestMeta,
} from './protocol/index.js';
export { openAppendFd, appendLine, closeAppendFd, type AppendOpenOptions } from './log-file/index.js';
export {
  EXIT_OK,
  EXIT_FAILURE,
  EXIT_BAD_INPUT,
  EXIT_TIMEOUT,
  ERROR_CODES,
  errorSpec,
  ModelServiceError,
  InvalidJsonError,
  InvalidUtf8Error,
  InvalidArgumentError,
  UsageError,
  ConfigError,
  IndexRegressionError,
  RouteNotFoundError,
  MethodNotAllowedError,
  BodyTooLargeError,
  BadHttpRequestError,
  HeadersTooLargeError,
  BodyTimeoutError,
  BusyError,
  SessionEndedError,
  TimeoutError,
  AbortedError,
  LogNotFoundError,
  LogReplacedError,
  LogUnavailableError,
  WriteFailedError,
  UnsafePathError,
  NativeUnavailableError,
  NativeLoadFailedError,
  ScannerClosedError,
  AlreadyRunningError,
  NotRunningError,
  ServiceRefusedError,
  StartFailedError,
  StopFailedError,
  UpstreamError,
  ResponseTooLargeError,
  ReplayExhaustedError,
  UnknownResponseError,
  BadResponseError,
  SandboxCommandError,
  SandboxStateError,
  InternalError,
  type ErrorCode,
  type ErrorSpec,
} from './errors.js';

// The service and the YAML/zod config reader load on first use, not with the package: a
// runtime that imports ModelClient never pays for them.

/** Starts a service and resolves once it listens; see `startServer` in server/start.ts for what it throws. */
export const startServer: typeof import('./server/index.js').startServer = async (input) => (await import('./server/index.js')).startServer(input);

/** Reads the config file, lays the overrides over it and applies env and defaults; see config/load.ts for what it throws. */
export const loadConfig: typeof import('./config/load.js').loadConfig = async (options) => (await import('./config/load.js')).loadConfig(options);
