export { type Sandbox, type SandboxRunOptions, type SandboxRunResult, type UploadSource } from './sandbox.js';
export { LocalSandbox, type LocalSandboxOptions } from './local-sandbox.js';
export {
  DEFAULT_INSTALL_CMDS,
  DEFAULT_MODEL_SERVICE_CONFIG,
  modelServiceConfig,
  type InstallFrom,
  type LegacyModelServiceFields,
  type ModelServiceConfig,
  type ModelServiceConfigInput,
  type RuntimeEnvConfig,
} from './model-service-config.js';
export { ModelService, RESPONSE_FILE_THRESHOLD_BYTES, type AntiCallOptions, type ModelServiceLogger } from './model-service.js';
export { shellQuote } from './shell-quote.js';
