import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_MODEL_SERVICE_CONFIG, modelServiceConfig, type ModelServiceConfig } from '../../src/sandbox/model-service-config.js';

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

  it('points a snake_case field to its camelCase name', () => {
    assert.throws(
      () => modelServiceConfig({ install_cmd: 'true' } as Partial<ModelServiceConfig>),
      configErrorFor('install_cmd', /use installCmd/),
    );
    assert.throws(() => modelServiceConfig({ colour: 'red' } as Partial<ModelServiceConfig>), configErrorFor('colour', /known fields/));
  });

  it('returns a frozen config', () => {
    assert.ok(Object.isFrozen(modelServiceConfig({ type: 'local' })));
  });
});
