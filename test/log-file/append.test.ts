import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendLine, closeAppendFd, MAX_LINE_BYTES, openAppendFd, readRegularFileSync, replaceRegularFile } from '../../src/log-file/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('log-file: append', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('append');
  });
  afterEach(() => removeDir(dir));

  it('appends one line per write so that two processes appending at once never interleave', async function () {
    this.timeout(60_000);
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, '');
    const writer = (kind: string, count: number, size: number) =>
      new Promise<void>((resolve, reject) => {
        const script = `
          import { openAppendFd, appendLine } from ${JSON.stringify(new URL('../../src/log-file/index.ts', import.meta.url).href)};
          import { encodeRequestLine, encodeResponseLine } from ${JSON.stringify(new URL('../../src/protocol/index.ts', import.meta.url).href)};
          const fd = openAppendFd(${JSON.stringify(log)});
          const encode = ${kind === 'req' ? 'encodeRequestLine' : 'encodeResponseLine'};
          for (let i = 1; i <= ${count}; i++) appendLine(fd, encode(JSON.stringify({ k: '${kind}', i, pad: 'x'.repeat((i * 7919) % ${size}) }), i));
        `;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'inherit' });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
      });
    await Promise.all([writer('req', 400, 300_000), writer('resp', 400, 300_000)]);
    const lines = readFileSync(log, 'latin1').split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 800);
    for (const line of lines) {
      const m = /^LLM_(REQUEST|RESPONSE)_START(.*)LLM_\1_END(\{.*\})$/.exec(line);
      assert.ok(m, `torn line: ${line.slice(0, 80)}`);
      const body = JSON.parse(m[2]!);
      assert.equal(body.k, m[1] === 'REQUEST' ? 'req' : 'resp');
      assert.equal(JSON.parse(m[3]!).index, body.i);
    }
  });

  it('a short write caused by the file-size limit leaves no torn line behind', async function () {
    // RLIMIT_FSIZE makes write(2) short at the limit; `ulimit -f` sets it for a child (SIGXFSZ ignored so write returns).
    const log = join(dir, 'LLMService.log');
    const script = `
      import { openAppendFd, appendLine } from ${JSON.stringify(new URL('../../src/log-file/index.ts', import.meta.url).href)};
      import { encodeRequestLine } from ${JSON.stringify(new URL('../../src/protocol/index.ts', import.meta.url).href)};
      process.on('SIGXFSZ', () => {});
      const fd = openAppendFd(${JSON.stringify(log)});
      appendLine(fd, encodeRequestLine('{"small":1}', 1));
      try { appendLine(fd, encodeRequestLine(JSON.stringify({ big: 'x'.repeat(8000) }), 2)); console.log('no error'); }
      catch (e) { console.log(e.code); }
    `;
    const out = await new Promise<string>((resolve) => {
      let text = '';
      const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 4; exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, script]);
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('exit', () => resolve(text.trim()));
    });
    assert.match(out, /RMS_WRITE_FAILED/);
    const content = readFileSync(log, 'utf8');
    assert.ok(content.endsWith('\n'), 'the file ends on a line boundary');
    assert.equal(content.split('\n').length - 1, 1);
    assert.ok(statSync(log).size < 4096);
  });

  it('refuses a line longer than one write(2) can carry, writing nothing', () => {
    const log = join(dir, 'LLMService.log');
    const fd = openAppendFd(log);
    try {
      // Not filled: the pages are never touched, so this costs no memory.
      const huge = Buffer.allocUnsafeSlow(MAX_LINE_BYTES + 1);
      assert.throws(() => appendLine(fd, huge), (err: unknown) => (err as { code?: string }).code === 'RMS_WRITE_FAILED' && /one write/.test((err as Error).message));
      assert.equal(statSync(log).size, 0);
    } finally {
      closeAppendFd(fd);
    }
  });

  it('closing twice is harmless', () => {
    const fd = openAppendFd(join(dir, 'x.log'));
    closeAppendFd(fd);
    closeAppendFd(fd);
  });

  describe('never through a link, only onto a regular file', () => {
    const isUnsafe = (pattern: RegExp) => (err: unknown) => (err as { code?: string }).code === 'RMS_UNSAFE_PATH' && pattern.test((err as Error).message);

    it('refuses a log that is a symbolic link and leaves its target as it was', () => {
      const target = join(dir, 'passwd');
      writeFileSync(target, 'root:x:0:0\n');
      symlinkSync(target, join(dir, 'LLMService.log'));
      assert.throws(() => openAppendFd(join(dir, 'LLMService.log')), isUnsafe(/LLMService\.log is a symbolic link, not a regular file/));
      assert.equal(readFileSync(target, 'utf8'), 'root:x:0:0\n');
    });

    it('creates nothing through a dangling symbolic link', () => {
      symlinkSync(join(dir, 'target.log'), join(dir, 'LLMService.log'));
      assert.throws(() => openAppendFd(join(dir, 'LLMService.log')), isUnsafe(/symbolic link/));
      assert.equal(existsSync(join(dir, 'target.log')), false);
    });

    it('refuses a fifo and a directory without blocking', () => {
      assert.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0);
      assert.throws(() => openAppendFd(join(dir, 'fifo')), isUnsafe(/is a fifo, not a regular file/));
      assert.throws(() => readRegularFileSync(join(dir, 'fifo'), 'the pid file'), isUnsafe(/the pid file .* is a fifo/));
      mkdirSync(join(dir, 'directory'));
      assert.throws(() => openAppendFd(join(dir, 'directory')), isUnsafe(/is a directory, not a regular file/));
    });

    it('opens an existing log without creating a missing one when asked', () => {
      assert.throws(() => openAppendFd(join(dir, 'missing.log'), { create: false }), { code: 'ENOENT' });
      assert.equal(existsSync(join(dir, 'missing.log')), false);
      writeFileSync(join(dir, 'there.log'), '');
      assert.throws(() => openAppendFd(join(dir, 'there.log'), { exclusive: true }), { code: 'EEXIST' });
    });

    it('replaces a file whole, and refuses to replace a link, leaving its target as it was', () => {
      const file = join(dir, 'pid.txt');
      replaceRegularFile(file, '42\n', 'the pid file');
      replaceRegularFile(file, '43\n', 'the pid file');
      assert.equal(readRegularFileSync(file, 'the pid file'), '43\n');
      const target = join(dir, 'passwd');
      writeFileSync(target, 'root\n');
      symlinkSync(target, join(dir, 'link.txt'));
      assert.throws(() => replaceRegularFile(join(dir, 'link.txt'), '44\n', 'the pid file'), isUnsafe(/the pid file .*link\.txt is a symbolic link/));
      assert.equal(readFileSync(target, 'utf8'), 'root\n');
      assert.deepEqual(
        spawnSync('ls', [dir]).stdout.toString().split('\n').filter((name) => name.endsWith('.tmp')),
        [],
        'a temporary file was left behind',
      );
    });
  });
});
