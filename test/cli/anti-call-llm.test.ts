import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactJson, encodeRequestLine } from '../../src/protocol/index.js';
import { collect, makeTempDir, removeDir, requireBuiltCli, ROCK_BIN, runCli, spawnCli, type CliResult } from '../helpers/cli.js';

const RESPONSE = '{"choices":[{"index":0,"message":{"role":"assistant","content":"r"},"finish_reason":"stop"}]}';

function requestLine(index: number, content = `turn ${index}`): string {
  return encodeRequestLine(compactJson(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] })), index).toString('utf8');
}

describe('rock model-service anti-call-llm', () => {
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  before(requireBuiltCli);
  beforeEach(() => {
    dir = makeTempDir('anticall');
    log = join(dir, 'LLMService.log');
    env = { ROCK_MODEL_SERVICE_DATA_DIR: dir };
  });
  afterEach(() => removeDir(dir));

  const antiCall = (args: string[], timeoutMs?: number): Promise<CliResult> =>
    runCli(['model-service', 'anti-call-llm', ...args], { cwd: dir, env, timeoutMs });

  function assertOneErrorLine(result: CliResult, code: number, pattern: RegExp): void {
    assert.equal(result.code, code, `exit ${result.code}, stderr: ${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, pattern);
  }

  it('prints request N+1 alone on one line after appending response N', async () => {
    writeFileSync(log, requestLine(1) + requestLine(2));
    const result = await antiCall(['--index', '1', '--response', RESPONSE]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'turn 2' }] })}\n`);
    assert.equal(result.stderr, '');
  });

  it('a retry of the same index exits 0 and writes no second response line', async () => {
    writeFileSync(log, requestLine(1) + requestLine(2));
    const first = await antiCall(['--index', '1', '--response', RESPONSE]);
    const again = await antiCall(['--index', '1', '--response', RESPONSE]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    assert.equal(readFileSync(log, 'utf8').split('LLM_RESPONSE_START').length - 1, 1);
  });

  it('prints SESSION_END when the session has ended', async () => {
    writeFileSync(log, requestLine(1) + 'SESSION_END\n');
    const result = await antiCall(['--index', '1', '--response', RESPONSE]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'SESSION_END\n');
  });

  it('index 0 waits for the first request', async () => {
    const child = spawnCli(['model-service', 'anti-call-llm', '--index', '0', '--timeout', '10'], { cwd: dir, env });
    const done = collect(child);
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(log, requestLine(1));
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).messages[0].content, 'turn 1');
  });

  it('prints a 1 MiB request whole through a pipe', async () => {
    const big = 'é'.repeat(512 * 1024) + 'THE END';
    writeFileSync(log, requestLine(1, big));
    const result = await antiCall(['--index', '0']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.length > 512 * 1024);
    assert.equal(result.stdout.endsWith('\n'), true);
    assert.equal(JSON.parse(result.stdout).messages[0].content, big);
  });

  it('prints a 1 MiB request whole when stdout is a non-blocking pipe that fills up', async function () {
    // Node keeps its own pipes blocking, so python sets O_NONBLOCK on the pipe before it runs the CLI.
    const python = spawnSync('python3', ['-c', '0']);
    if (python.status !== 0) this.skip();
    const big = 'x'.repeat(1024 * 1024);
    writeFileSync(log, requestLine(1, big));
    const exec = `import os; os.set_blocking(1, False); os.execv(${JSON.stringify(process.execPath)}, ['node', ${JSON.stringify(ROCK_BIN)}, 'model-service', 'anti-call-llm', '--index', '0'])`;
    const child = spawn('python3', ['-c', exec], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 300));
    child.stdout.resume();
    const result = await collect(child);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).messages[0].content, big);
  });

  it('reads --response-file, keeps a pretty-printed multi-line response on one line, and deletes the file', async () => {
    writeFileSync(log, requestLine(1) + requestLine(2));
    const file = join(dir, 'response.json');
    writeFileSync(file, '{\n  "id": 1234567890123456789,\n  "choices": [ {"message": {"content": "héllo SESSION_END"}} ]\n}\n');
    const result = await antiCall(['--index', '1', '--response-file', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(file), false);
    const lines = readFileSync(log, 'utf8').split('\n');
    assert.match(lines[2]!, /^LLM_RESPONSE_START\{"id":1234567890123456789,"choices":\[\{"message":\{"content":"héllo SESSION\\u005fEND"\}\}\]\}LLM_RESPONSE_END/);
    assert.equal(lines.length, 4);
  });

  it('exits 3 with one stderr line when --timeout passes', async () => {
    writeFileSync(log, requestLine(1));
    const result = await antiCall(['--index', '1', '--response', RESPONSE, '--timeout', '0.2']);
    assertOneErrorLine(result, 3, /timed out after 0\.2 s waiting for request 2/);
  });

  it('exits 1 when there is no log to answer', async () => {
    const result = await antiCall(['--index', '1', '--response', RESPONSE]);
    assertOneErrorLine(result, 1, /no log at .*LLMService\.log/);
    assert.equal(existsSync(log), false);
  });

  describe('bad input: exit 2, one stderr line, nothing written', () => {
    const cases: [string, string[], RegExp][] = [
      ['a negative index', ['--index', '-1'], /--index must be a whole number >= 0/],
      ['an index that is not a number', ['--index', 'one'], /--index must be a whole number >= 0/],
      ['a fractional index', ['--index', '1.5', '--response', RESPONSE], /--index must be a whole number >= 0/],
      ['index 0 with a response', ['--index', '0', '--response', RESPONSE], /index 0 .* takes no response/],
      ['index 1 without a response', ['--index', '1'], /index 1 needs the response/],
      ['a response that is not JSON', ['--index', '1', '--response', '{broken'], /JSON/i],
      ['both --response and --response-file', ['--index', '1', '--response', RESPONSE, '--response-file', 'f.json'], /not both/],
      ['a --response-file that does not exist', ['--index', '1', '--response-file', 'missing.json'], /cannot read --response-file missing\.json \(ENOENT\)/],
      ['a timeout that is not a number', ['--index', '0', '--timeout', 'soon'], /--timeout must be a number of seconds/],
      ['no --index', [], /required option '--index <n>' not specified/],
      ['an unknown option', ['--index', '0', '--bogus'], /unknown option '--bogus'/],
    ];
    for (const [what, args, pattern] of cases) {
      it(`refuses ${what}`, async () => {
        writeFileSync(log, requestLine(1));
        const before = readFileSync(log);
        assertOneErrorLine(await antiCall(args), 2, pattern);
        assert.deepEqual(readFileSync(log), before);
      });
    }

    it('refuses a response index lower than the last one written', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2) + requestLine(3));
      assert.equal((await antiCall(['--index', '2', '--response', RESPONSE])).code, 0);
      const before = readFileSync(log);
      assertOneErrorLine(await antiCall(['--index', '1', '--response', RESPONSE]), 2, /lower than the last response already written \(2\)/);
      assert.deepEqual(readFileSync(log), before);
    });

    it('keeps a --response-file whose content was refused', async () => {
      writeFileSync(log, requestLine(1));
      const before = readFileSync(log);
      const file = join(dir, 'bad.json');
      writeFileSync(file, '{"choices": [}');
      assertOneErrorLine(await antiCall(['--index', '1', '--response-file', file]), 2, /JSON/i);
      assert.equal(existsSync(file), true);
      assert.deepEqual(readFileSync(log), before);
    });
  });
});
