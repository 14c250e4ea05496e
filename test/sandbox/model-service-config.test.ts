import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import {
  DEFAULT_INSTALL_CMDS,
  DEFAULT_MODEL_SERVICE_CONFIG,
  modelServiceConfig,
  resolveModelServiceConfig,
  type ModelServiceConfigInput,
} from '../../src/sandbox/model-service-config.js';

/** ROCK 1.11's ModelServiceConfig (rock/sdk/sandbox/model_service/base.py) with its defaults, snake_case as in Python. */
const ROCK_PYTHON_CONFIG = {
  enabled: true,
  type: 'local',
  install_cmd: 'pip install rock-model-service',
  install_timeout: 300,
  runtime_env_config: { type: 'python', version: 'default', env: {}, install_timeout: 600, custom_install_cmd: null, extra_symlink_dir: null, extra_symlink_executables: ['python', 'python3', 'pip', 'pip3'], pip: null, pip_index_url: null },
  start_cmd: 'rock model-service start --type ${type}',
  stop_cmd: 'rock model-service stop',
  config_ini_cmd: 'mkdir -p ~/.rock && touch ~/.rock/config.ini',
  watch_agent_cmd: 'rock model-service watch-agent --pid ${pid}',
  anti_call_llm_cmd: 'PYTHONWARNINGS=ignore rock model-service anti-call-llm --index ${index} --response ${response_payload}',
  anti_call_llm_cmd_file: 'PYTHONWARNINGS=ignore rock model-service anti-call-llm --index ${index} --response-file ${response_file}',
  anti_call_llm_cmd_no_response: 'PYTHONWARNINGS=ignore rock model-service anti-call-llm --index ${index}',
  logging_path: '/data/logs',
  logging_file_name: 'model_service.log',
};

/** ROCK's TypeScript SDK spells the same fields in camelCase (rock/ts-sdk/src/sandbox/model_service/base.ts). */
const ROCK_TS_CONFIG = {
  enabled: false,
  type: 'local',
  installCmd: 'pip install rock-model-service',
  installTimeout: 300,
  runtimeEnvConfig: { type: 'python', version: 'default', env: { A: '1' }, installTimeout: 600, customInstallCmd: null, extraSymlinkDir: null, extraSymlinkExecutables: [], pip: ['x'], pipIndexUrl: null },
  startCmd: 'rock model-service start --type ${type}',
  stopCmd: 'rock model-service stop',
  configIniCmd: 'mkdir -p ~/.rock && touch ~/.rock/config.ini',
  watchAgentCmd: 'rock model-service watch-agent --pid ${pid}',
  antiCallLlmCmd: 'rock model-service anti-call-llm --index ${index} --response ${response_payload}',
  antiCallLlmCmdNoResponse: 'rock model-service anti-call-llm --index ${index}',
  loggingPath: '/data/logs',
  loggingFileName: 'model_service.log',
} as const;

/** ROCK 1.0's fields (python, snake_case), with their defaults. */
const ROCK_1_0_CONFIG = {
  workdir: '/tmp_model_service',
  python_install_cmd: 'install python',
  model_service_install_cmd: 'pip install rock-model-service',
  python_install_timeout: 300,
  model_service_install_timeout: 300,
  model_service_session: 'model-service-session',
  session_envs: { B: '2' },
  config_ini_cmd: 'mkdir -p ~/.rock && touch ~/.rock/config.ini',
  model_service_type: 'local',
  stop_cmd: 'rock model-service stop',
  logging_path: '/data/logs',
  logging_file_name: 'model_service.log',
  anti_call_llm_request_log_path: null,
  anti_call_llm_response_log_path: null,
};

const configErrorFor = (field: string, pattern?: RegExp) => (e: unknown) =>
  e instanceof ConfigError && e.code === 'RMS_CONFIG' && e.key === field && e.message.includes(field) && (!pattern || pattern.test(e.message));

describe('modelServiceConfig', () => {
  it("applies the reference's defaults", () => {
    const config = modelServiceConfig();
    assert.equal(config.enabled, false);
    assert.equal(config.type, 'local');
    assert.equal(config.installTimeout, 300);
    assert.equal(config.startCmd, 'rock model-service start --type ${type}');
    assert.equal(config.stopCmd, 'rock model-service stop');
    assert.equal(config.watchAgentCmd, 'rock model-service watch-agent --pid ${pid}');
    assert.equal(config.antiCallLlmCmd, 'rock model-service anti-call-llm --index ${index} --response ${response_payload}');
    assert.equal(config.antiCallLlmCmdFile, 'rock model-service anti-call-llm --index ${index} --response-file ${response_file}');
    assert.equal(config.antiCallLlmCmdNoResponse, 'rock model-service anti-call-llm --index ${index}');
    assert.equal(config.loggingPath, '/data/logs');
    assert.equal(config.loggingFileName, 'model_service.log');
  });

  it("installs this package's own version with npm by default", () => {
    assert.match(DEFAULT_MODEL_SERVICE_CONFIG.installCmd, /^npm install -g rock-model-service@\d+\.\d+\.\d+/);
  });

  it("accepts a config copied from ROCK's Python SDK, snake_case keys and all, and says which fields have no effect", () => {
    const { config, ignored } = resolveModelServiceConfig(ROCK_PYTHON_CONFIG as ModelServiceConfigInput);
    assert.equal(config.installCmd, 'pip install rock-model-service');
    assert.equal(config.configIniCmd, 'mkdir -p ~/.rock && touch ~/.rock/config.ini');
    assert.equal(config.antiCallLlmCmdFile, ROCK_PYTHON_CONFIG.anti_call_llm_cmd_file);
    assert.equal(config.enabled, true);
    assert.deepEqual(config.runtimeEnvConfig.env, {});
    assert.deepEqual(ignored, [
      'runtimeEnvConfig.type',
      'runtimeEnvConfig.version',
      'runtimeEnvConfig.extraSymlinkDir',
      'runtimeEnvConfig.extraSymlinkExecutables',
      'runtimeEnvConfig.pip',
      'runtimeEnvConfig.pipIndexUrl',
    ]);
  });

  it("accepts a config copied from ROCK's TypeScript SDK (camelCase)", () => {
    const config = modelServiceConfig(ROCK_TS_CONFIG as ModelServiceConfigInput);
    assert.deepEqual(config.runtimeEnvConfig.env, { A: '1' });
    assert.equal(config.configIniCmd, ROCK_TS_CONFIG.configIniCmd);
  });

  it("accepts ROCK 1.0's fields: its names of ours take effect, its Python runtime's are ignored", () => {
    const { config, ignored } = resolveModelServiceConfig(ROCK_1_0_CONFIG as ModelServiceConfigInput);
    assert.equal(config.installCmd, 'pip install rock-model-service');
    assert.equal(config.installTimeout, 300);
    assert.equal(config.type, 'local');
    assert.deepEqual(config.runtimeEnvConfig.env, { B: '2' });
    assert.deepEqual(ignored, ['workdir', 'pythonInstallCmd', 'pythonInstallTimeout', 'modelServiceSession', 'antiCallLlmRequestLogPath', 'antiCallLlmResponseLogPath']);
    assert.throws(() => modelServiceConfig({ modelServiceType: 'proxy', type: 'local' }), configErrorFor('modelServiceType', /keep one/));
    assert.throws(
      () => modelServiceConfig({ watchAgentCmd: 'rock model-service watch-agent --pid {pid}' }),
      configErrorFor('watchAgentCmd', /ROCK 1\.0 placeholder .*write \$\{pid\}/),
    );
  });

  it('refuses a field given in both spellings, and an unknown field of runtimeEnvConfig', () => {
    assert.throws(() => modelServiceConfig({ installCmd: 'a', install_cmd: 'b' }), configErrorFor('installCmd', /given twice/));
    assert.throws(
      () => modelServiceConfig({ runtimeEnvConfig: { pythonPath: '/x' } as ModelServiceConfigInput['runtimeEnvConfig'] }),
      configErrorFor('pythonPath', /runtimeEnvConfig has no field "pythonPath"/),
    );
    assert.throws(() => modelServiceConfig({ runtimeEnvConfig: { env: { A: 1 } } as unknown as ModelServiceConfigInput }), configErrorFor('runtimeEnvConfig.env'));
  });

  it('installs from tarballs or the executable with a command that uses the uploaded files, and refuses one that does not', () => {
    assert.equal(modelServiceConfig({ installFrom: { tarballs: ['a.tgz', 'b.tgz'] } }).installCmd, DEFAULT_INSTALL_CMDS.tarballs);
    assert.equal(modelServiceConfig({ installFrom: { executable: 'rock-sea' } }).installCmd, DEFAULT_INSTALL_CMDS.executable);
    assert.match(DEFAULT_INSTALL_CMDS.tarballs, /^npm install -g .*\$\{install_files\}/);
    assert.match(DEFAULT_INSTALL_CMDS.executable, /\$\{install_bin_dir\}\/rock/);
    assert.throws(() => modelServiceConfig({ installFrom: { tarballs: [] } }), configErrorFor('installFrom', /tarballs/));
    assert.throws(
      () => modelServiceConfig({ installFrom: { tarballs: ['a'], executable: 'b' } as unknown as { executable: string } }),
      configErrorFor('installFrom'),
    );
    assert.throws(() => modelServiceConfig({ installFrom: { executable: 'x' }, installCmd: 'cp /somewhere /usr/bin/rock' }), configErrorFor('installCmd', /install_files/));
    assert.throws(() => modelServiceConfig({ installFrom: { executable: 'x' }, installCmd: 'cp "${install_files}" /bin' }), configErrorFor('installCmd', /double quotes/));
  });

  it('keeps the fields it is given and the defaults for the rest', () => {
    const config = modelServiceConfig({ type: 'proxy', installCmd: 'true', startCmd: 'rock model-service start --type ${type} --port 9000' });
    assert.equal(config.type, 'proxy');
    assert.equal(config.installCmd, 'true');
    assert.equal(config.startCmd, 'rock model-service start --type ${type} --port 9000');
    assert.equal(config.stopCmd, DEFAULT_MODEL_SERVICE_CONFIG.stopCmd);
  });

  it('refuses a type other than local or proxy, naming the field', () => {
    assert.throws(() => modelServiceConfig({ type: 'remote' as 'local' }), configErrorFor('type', /"local" or "proxy"/));
  });

  it('refuses a value of the wrong type, naming the field', () => {
    assert.throws(() => modelServiceConfig({ installTimeout: '300' as unknown as number }), configErrorFor('installTimeout', /number/));
    assert.throws(() => modelServiceConfig({ enabled: 'yes' as unknown as boolean }), configErrorFor('enabled', /boolean/));
    assert.throws(() => modelServiceConfig({ installTimeout: 0 }), configErrorFor('installTimeout', /positive/));
  });

  it('refuses an empty command and a log file name with a directory in it', () => {
    assert.throws(() => modelServiceConfig({ stopCmd: '  ' }), configErrorFor('stopCmd', /empty/));
    assert.throws(() => modelServiceConfig({ loggingFileName: 'logs/ms.log' }), configErrorFor('loggingFileName'));
  });

  it('refuses an unknown template variable, naming the field', () => {
    assert.throws(
      () => modelServiceConfig({ antiCallLlmCmd: 'rock model-service anti-call-llm --index ${index} --response ${payload}' }),
      configErrorFor('antiCallLlmCmd', /\$\{payload\}/),
    );
    assert.throws(() => modelServiceConfig({ startCmd: 'rock model-service start --pid ${pid}' }), configErrorFor('startCmd', /\$\{pid\}/));
  });

  it('refuses an anti-call template that would drop the response', () => {
    assert.throws(
      () => modelServiceConfig({ antiCallLlmCmdFile: 'rock model-service anti-call-llm --index ${index}' }),
      configErrorFor('antiCallLlmCmdFile', /\$\{response_file\}/),
    );
  });

  it('runs the install and stop commands as written, ${...} included', () => {
    const config = modelServiceConfig({ installCmd: 'cd ${HOME} && true', stopCmd: 'rock model-service stop # ${x}' });
    assert.equal(config.installCmd, 'cd ${HOME} && true');
    assert.equal(config.stopCmd, 'rock model-service stop # ${x}');
  });

  it('takes snake_case fields as their camelCase names, and names an unknown field', () => {
    assert.equal(modelServiceConfig({ install_cmd: 'true' }).installCmd, 'true');
    assert.throws(() => modelServiceConfig({ colour: 'red' } as ModelServiceConfigInput), configErrorFor('colour', /known fields/));
  });

  it('returns a frozen config', () => {
    assert.ok(Object.isFrozen(modelServiceConfig({ type: 'local' })));
  });
});
