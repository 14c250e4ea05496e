import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { checkTemplate, renderCommand, templateVariables } from '../../src/sandbox/command-template.js';

describe('command templates', () => {
  it('substitutes ${index} and ${response_payload}, quoting the values', () => {
    const command = renderCommand('rock model-service anti-call-llm --index ${index} --response ${response_payload}', {
      index: 3,
      response_payload: `{"a":"it's"}`,
    });
    assert.equal(command, `rock model-service anti-call-llm --index 3 --response '{"a":"it'\\''s"}'`);
  });

  it('substitutes every occurrence of a variable', () => {
    assert.equal(renderCommand('echo ${pid} ${pid}', { pid: '12' }), 'echo 12 12');
  });

  it('leaves shell variables without braces alone and turns $${ into a literal ${', () => {
    assert.equal(renderCommand('echo $HOME $${HOME} ${type}', { type: 'local' }), 'echo $HOME ${HOME} local');
    assert.deepEqual(templateVariables('echo $${HOME} ${type}'), ['type']);
  });

  it('refuses to render a variable it has no value for', () => {
    assert.throws(() => renderCommand('echo ${pid}', { index: 1 }), (e: unknown) => e instanceof ConfigError && /\$\{pid\}/.test(e.message));
  });

  it('names the field and the variable when a template uses one the field does not take', () => {
    assert.throws(
      () => checkTemplate('startCmd', 'rock model-service start --port ${port}', ['type']),
      (e: unknown) =>
        e instanceof ConfigError && e.key === 'startCmd' && e.message.includes('startCmd') && e.message.includes('${port}'),
    );
  });

  it('names the field when a template lacks a variable it needs', () => {
    assert.throws(
      () => checkTemplate('watchAgentCmd', 'rock model-service watch-agent', ['pid'], ['pid']),
      (e: unknown) => e instanceof ConfigError && e.key === 'watchAgentCmd' && e.message.includes('${pid}'),
    );
  });
});
