import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactJson, encodeRequestLine } from '../../src/protocol/index.js';
import { collect, requireBuiltCli, ROCK_BIN, runCli, spawnCli, type CliResult } from '../helpers/cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

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

    it('refuses an index whose next turn has no exact index', async () => {
      writeFileSync(log, requestLine(1));
      const before = readFileSync(log);
      assertOneErrorLine(await antiCall(['--index', String(Number.MAX_SAFE_INTEGER), '--response', RESPONSE]), 2, /--index must be at most 9007199254740990/);
      assert.deepEqual(readFileSync(log), before);
    });

    it('refuses a timeout that is not finite or is past 100 years', async () => {
      for (const timeout of ['Infinity', '1e300', 'NaN', '3155760001']) {
        writeFileSync(log, requestLine(1));
        assertOneErrorLine(await antiCall(['--index', '0', '--timeout', timeout]), 2, /--timeout must be/);
      }
    });

    it('shows escape characters of a bad value escaped, never raw', async () => {
      writeFileSync(log, requestLine(1));
      const result = await antiCall(['--index', '\u001b[31mred\u0007']);
      assertOneErrorLine(result, 2, /--index must be a whole number >= 0/);
      assert.ok(!/[\u0000-\u0009\u000b-\u001f]/.test(result.stderr), `raw control characters in ${JSON.stringify(result.stderr)}`);
      assert.match(result.stderr, /\\u001b\[31mred\\u0007/);
    });

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

  describe('long waits', () => {
    for (const timeout of ['2147484', '1e9']) {
      it(`waits with --timeout ${timeout} (past the 2^31-1 ms a Node timer holds)`, async () => {
        writeFileSync(log, requestLine(1));
        const child = spawnCli(['model-service', 'anti-call-llm', '--index', '1', '--response', RESPONSE, '--timeout', timeout], { cwd: dir, env });
        const done = collect(child);
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(child.exitCode, null, 'the wait ended at once');
        appendFileSync(log, requestLine(2));
        const result = await done;
        assert.equal(result.code, 0, result.stderr);
        assert.equal(JSON.parse(result.stdout).messages[0].content, 'turn 2');
        assert.equal(result.stderr, '');
      });
    }
  });

  describe('a wrong data dir', () => {
    it('says once that there is no log at the path and which variable sets it, then waits for it', async () => {
      const child = spawnCli(['model-service', 'anti-call-llm', '--index', '0', '--timeout', '20'], { cwd: dir, env });
      const done = collect(child);
      await new Promise((r) => setTimeout(r, 500));
      writeFileSync(log, requestLine(1));
      const result = await done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).messages[0].content, 'turn 1');
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.ok(lines[0]!.includes(`there is no log at ${log}`), result.stderr);
      assert.match(lines[0]!, /ROCK_MODEL_SERVICE_DATA_DIR/);
    });

    it('names the path when it times out without a log', async () => {
      const result = await antiCall(['--index', '0', '--timeout', '0.3']);
      assert.equal(result.code, 3, result.stderr);
      assert.ok(result.stderr.includes(`timed out after 0.3 s waiting for request 1: there is no log at ${log}`), result.stderr);
    });
  });

  describe('two runtimes answering one index', () => {
    it('writes exactly one answer when many processes answer the same index at once; the others exit 0, a different payload says so', async function () {
      this.timeout(120_000);
      for (let trial = 0; trial < 3; trial++) {
        writeFileSync(log, requestLine(1) + requestLine(2));
        const answers = Array.from({ length: 12 }, (_, i) => `{"choices":[{"message":{"content":"answer ${i % 4}"}}]}`);
        const results = await Promise.all(answers.map((answer) => antiCall(['--index', '1', '--response', answer], 60_000)));
        const written = readFileSync(log, 'utf8').split('\n').filter((line) => line.startsWith('LLM_RESPONSE_START'));
        assert.equal(written.length, 1, `trial ${trial}: ${written.length} response lines`);
        const winner = written[0]!.slice('LLM_RESPONSE_START'.length, written[0]!.indexOf('LLM_RESPONSE_END'));
        results.forEach((result, i) => {
          assert.equal(result.code, 0, result.stderr);
          assert.equal(JSON.parse(result.stdout).messages[0].content, 'turn 2');
          if (answers[i] === winner) assert.equal(result.stderr, '', `same payload, yet: ${result.stderr}`);
          else assert.match(result.stderr, /^rock model-service anti-call-llm: response 1 is already in .* with another payload; the first answer stands and this one was not written\n$/);
        });
      }
    });
  });

  describe('--response-file that is not a plain regular file', () => {
    it('reads through a symbolic link but deletes neither the link nor its target', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const target = join(dir, 'answer.json');
      writeFileSync(target, RESPONSE);
      symlinkSync(target, join(dir, 'link.json'));
      const result = await antiCall(['--index', '1', '--response-file', join(dir, 'link.json')]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(existsSync(target) && existsSync(join(dir, 'link.json')));
      assert.match(readFileSync(log, 'utf8'), /^LLM_RESPONSE_START\{"choices"/m);
    });

    it('takes a process substitution (a pipe) and finishes the turn', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const command = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(ROCK_BIN)} model-service anti-call-llm --index 1 --response-file <(printf '%s' '${RESPONSE}')`;
      const result = await collect(spawn('bash', ['-c', command], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.equal(JSON.parse(result.stdout).messages[0].content, 'turn 2');
      assert.equal(readFileSync(log, 'utf8').split('LLM_RESPONSE_START').length - 1, 1);
    });

    it('gives up on a fifo that nobody opens when --timeout passes', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const fifo = join(dir, 'fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const started = Date.now();
      const result = await antiCall(['--index', '1', '--response-file', fifo, '--timeout', '0.5'], 10_000);
      assert.ok(Date.now() - started < 5000, 'waited past --timeout');
      assertOneErrorLine(result, 3, /did not end within 0\.5 s/);
    });

    it('refuses a fifo whose writer closed without a byte', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const fifo = join(dir, 'fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const writer = spawn('sh', ['-c', `sleep 0.3; : > ${fifo}`], { stdio: 'ignore' });
      const result = await antiCall(['--index', '1', '--response-file', fifo, '--timeout', '10'], 15_000);
      writer.kill();
      assertOneErrorLine(result, 2, /ended without a byte/);
      assert.equal(readFileSync(log, 'utf8').includes('LLM_RESPONSE_START'), false);
    });

    it('gives up on a pipe whose writer never closes when --timeout passes', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const fifo = join(dir, 'fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const writer = spawn('sh', ['-c', `exec 3>${fifo}; sleep 30`], { stdio: 'ignore' });
      try {
        const started = Date.now();
        const result = await antiCall(['--index', '1', '--response-file', fifo, '--timeout', '0.5'], 10_000);
        assert.ok(Date.now() - started < 5000, 'waited past --timeout');
        assertOneErrorLine(result, 3, /did not end within 0\.5 s/);
      } finally {
        writer.kill('SIGKILL');
      }
    });

    it('finishes a turn whose response is in the log even when the file cannot be deleted', async function () {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      const file = join(locked, 'response.json');
      writeFileSync(file, RESPONSE);
      // An immutable directory refuses the unlink even to root.
      if (spawnSync('chattr', ['+i', locked]).status !== 0) this.skip();
      try {
        const result = await antiCall(['--index', '1', '--response-file', file]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(JSON.parse(result.stdout).messages[0].content, 'turn 2');
        assert.match(result.stderr, /^rock model-service anti-call-llm: could not delete --response-file .*response\.json \(EPERM\); the response is in the log\n$/);
        const again = await antiCall(['--index', '1', '--response-file', file]);
        assert.equal(again.code, 0, again.stderr);
      } finally {
        spawnSync('chattr', ['-i', locked]);
      }
    });
  });

  it('refuses a log that is a fifo at once instead of waiting for a writer past --timeout', async () => {
    assert.equal(spawnSync('mkfifo', [log]).status, 0);
    const started = Date.now();
    const result = await antiCall(['--index', '0', '--timeout', '1'], 10_000);
    assertOneErrorLine(result, 1, /LLMService\.log is a fifo, not a regular file/);
    assert.ok(Date.now() - started < 5000);
  });

  it('refuses to append through a log that is a symbolic link, leaving its target as it was', async () => {
    const target = join(dir, 'target.log');
    const content = requestLine(1);
    writeFileSync(target, content);
    symlinkSync(target, log);
    const result = await antiCall(['--index', '1', '--response', RESPONSE]);
    assertOneErrorLine(result, 1, /LLMService\.log is a symbolic link, not a regular file/);
    assert.equal(readFileSync(target, 'utf8'), content);
  });
});
