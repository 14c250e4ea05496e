/**
 * rock-model-service: the public surface (SPEC section 9). Everything a user imports comes
 * from here; modules not re-exported are internal.
 */
export { ModelClient, type ModelClientOptions, type WaitOptions } from './client/model-client.js';
export type { RunningServer } from './server/index.js';
export type { LoadConfigOptions } from './config/load.js';
export { resolveServiceConfig, type ServiceConfigInput } from './config/resolve.js';
export type { ServiceConfig } from './config/types.js';
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
  type LogRecord,
  type ScanResult,
  type ScanOptions,
  type ScanEngine,
} from './scanner/index.js';
export { LogFollower, type LogFollowerOptions } from './follower/index.js';
export {
  compactJson,
  parseJsonText,
  decodeUtf8,
  encodeRequestLine,
  encodeResponseLine,
  formatMeta,
  SESSION_END_LINE,
  REQUEST_START,
  REQUEST_END,
  RESPONSE_START,
  RESPONSE_END,
  SESSION_END,
} from './protocol/index.js';
export { openAppendFd, appendLine } from './log-file/index.js';
export * from './errors.js';

// The service and the YAML/zod config reader load on first use, not with the package: a
// runtime that imports ModelClient never pays for them.

/** Starts a service and resolves once it listens; see `startServer` in server/start.ts for what it throws. */
export const startServer: typeof import('./server/index.js').startServer = async (input) => (await import('./server/index.js')).startServer(input);

/** Reads the config file, lays the overrides over it and applies env and defaults; see config/load.ts for what it throws. */
export const loadConfig: typeof import('./config/load.js').loadConfig = async (options) => (await import('./config/load.js')).loadConfig(options);
