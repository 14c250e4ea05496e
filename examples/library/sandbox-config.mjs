// ModelServiceConfig: ROCK's fields in either spelling, ours beside them, checked when the ModelService is made.
import { DEFAULT_INSTALL_CMDS, DEFAULT_MODEL_SERVICE_CONFIG, LocalSandbox, ModelService, modelServiceConfig, RESPONSE_FILE_THRESHOLD_BYTES, shellQuote } from 'rock-model-service';

// A config copied from ROCK's Python SDK: snake_case, ROCK 1.0 names, fields for its Python runtime.
const sandbox = new LocalSandbox();
const service = new ModelService(
  sandbox,
  {
    enabled: true,
    model_service_type: 'local',
    install_timeout: 600,
    runtime_env_config: { type: 'uv', version: '3.11', env: { HTTPS_PROXY: 'http://proxy:3128' } },
    session_envs: { TZ: 'UTC' },
    workdir: '/opt/rock',
    logging_path: '/tmp/rock-logs',
  },
  { logger: { warn: (message) => console.log('warning:', message) } },
);
const { type, installTimeout, runtimeEnvConfig, loggingPath, startCmd } = service.config;
console.log(type, installTimeout, runtimeEnvConfig.env, loggingPath, startCmd);
await sandbox.close();

// Install from the tarballs of `npm run package` instead of the registry.
const fromTarballs = modelServiceConfig({ installFrom: { tarballs: ['rock-model-service-0.1.0.tgz', 'rock-model-service-linux-x64-gnu-0.1.0.tgz'] } });
console.log(fromTarballs.installCmd === DEFAULT_INSTALL_CMDS.tarballs, fromTarballs.installCmd);
console.log(DEFAULT_MODEL_SERVICE_CONFIG.antiCallLlmCmd);

// Templates take their own variables, bare: the SDK quotes every value for the shell.
for (const antiCallLlmCmd of ['rock model-service anti-call-llm --index ${index} --response "${response_payload}"', 'rock model-service anti-call-llm --index ${pid}']) {
  try {
    modelServiceConfig({ antiCallLlmCmd });
  } catch (err) {
    console.log(err.code, err.key, err.message.split('. ')[0]);
  }
}
console.log(shellQuote('plain-word'), shellQuote(`it's $(date)`), RESPONSE_FILE_THRESHOLD_BYTES);
