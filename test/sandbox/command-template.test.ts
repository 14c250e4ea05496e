import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { checkTemplate, renderCommand, templateVariables } from '../../src/sandbox/command-template.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

/** Runs `command` with bash in a fresh directory. @returns what it left in `out`, and whether `pwned` was created. */
function runInBash(command: string): { out: string | undefined; pwned: boolean } {
  const dir = makeTempDir('template');
  try {
    spawnSync('bash', ['-c', command], { cwd: dir, stdio: 'ignore', timeout: 5000 });
    return { out: existsSync(join(dir, 'out')) ? readFileSync(join(dir, 'out'), 'utf8') : undefined, pwned: existsSync(join(dir, 'pwned')) };
  } finally {
    removeDir(dir);
  }
}

const HOSTILE = `it's "$(touch pwned)" \`touch pwned\` \\ $HOME \n\nline 你好 '' # x\nEOF\n`;
const checkPayload = (template: string) => () => checkTemplate('antiCallLlmCmd', template, ['index', 'response_payload'], ['response_payload']);

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

  describe('quoting context of a value that needs quoting', () => {
    const safe: [string, (payload: string) => string][] = [
      ['printf %s ${response_payload} > out', (p) => p],
      ['printf %s --response=${response_payload} > out', (p) => `--response=${p}`],
      ["printf '%s' ${response_payload} > out # it's fine", (p) => p],
      [`printf "a'b" > /dev/null; x=\${response_payload}; printf %s "$x" > out`, (p) => p],
      ['printf %s "$(printf %s ${response_payload})" > out', (p) => p.replace(/\n+$/, '')],
      ['n=$((1 + 2)); printf %s $${HOME:+} ${response_payload} > out', (p) => p],
      ["cat <<'EOF' > /dev/null\nindex ${index} \"'\nEOF\nprintf %s ${response_payload} > out", (p) => p],
      ['cat <<-END > /dev/null\n\tx\n\tEND\nprintf %s ${response_payload} > out', (p) => p],
    ];
    for (const [template, expected] of safe) {
      it(`accepts ${JSON.stringify(template)}, and bash gets the hostile payload as one word, byte for byte`, () => {
        assert.doesNotThrow(checkPayload(template));
        const { out, pwned } = runInBash(renderCommand(template, { index: 1, response_payload: HOSTILE }));
        assert.equal(pwned, false, 'the payload ran');
        assert.equal(out, expected(HOSTILE));
      });
    }

    const unsafe: [string, RegExp][] = [
      ['printf "%s" "${response_payload}" > out', /inside double quotes/],
      ["printf %s '${response_payload}' > out", /inside single quotes/],
      ['printf %s \\${response_payload} > out', /inside after a backslash/],
      ["printf %s $'${response_payload}' > out", /inside a \$'...' string/],
      ['printf %s `printf %s ${response_payload}` > out', /inside backquotes/],
      ['true # ${response_payload}', /inside a comment/],
      ['cat > out <<EOF\n${response_payload}\nEOF', /inside a here-document/],
      ['printf %s $${X:-${response_payload}} > out', /inside a \$\{\.\.\.\} expansion/],
      ['printf %s "$(printf %s "${response_payload}")" > out', /inside double quotes/],
      ['printf %s "$(true)${response_payload}" > out', /inside double quotes/],
    ];
    for (const [template, message] of unsafe) {
      it(`refuses ${JSON.stringify(template)}, saying where the placeholder stands and how to write it`, () => {
        assert.throws(checkPayload(template), (e: unknown) => {
          assert.ok(e instanceof ConfigError);
          assert.equal(e.key, 'antiCallLlmCmd');
          assert.match(e.message, message);
          assert.match(e.message, /Write \$\{response_payload\} bare/);
          return true;
        });
      });
    }

    it('refuses what bash really gets wrong: in double quotes a payload\'s $(...) runs', () => {
      const rendered = renderCommand('printf "%s" "${response_payload}" > out', { response_payload: '$(touch pwned)' });
      assert.equal(runInBash(rendered).pwned, true);
      assert.throws(checkPayload('printf "%s" "${response_payload}" > out'), ConfigError);
    });

    it('lets plain-word variables stand anywhere, and refuses a quote left open', () => {
      assert.doesNotThrow(() => checkTemplate('watchAgentCmd', 'rock model-service watch-agent --pid "${pid}" # ${pid}', ['pid'], ['pid']));
      assert.throws(checkPayload("printf %s ${response_payload} 'oops"), /leaves a ' quote open/);
      assert.throws(checkPayload('printf %s ${response_payload} "oops'), /leaves a " quote open/);
      assert.throws(checkPayload('printf %s ${response_payload} $(oops'), /leaves a \$\( substitution open/);
    });

    it('names a ROCK 1.0 placeholder and its spelling here', () => {
      assert.throws(
        () => checkTemplate('startCmd', 'rock model-service start --type {model_service_type}', ['type']),
        (e: unknown) => e instanceof ConfigError && e.key === 'startCmd' && /\{model_service_type\} .* ROCK 1\.0 placeholder .*write \$\{type\}/.test(e.message),
      );
      assert.throws(() => checkTemplate('watchAgentCmd', 'rock model-service watch-agent --pid {pid}', ['pid'], ['pid']), /write \$\{pid\}/);
    });

    it('renders a list value as one quoted word per item', () => {
      assert.equal(renderCommand('npm install -g ${install_files}', { install_files: ['/t/a.tgz', "/t/it's b.tgz"] }), `npm install -g /t/a.tgz '/t/it'\\''s b.tgz'`);
    });
  });
});

