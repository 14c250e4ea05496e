import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { appendLine, closeAppendFd, MAX_LINE_BYTES, openAppendFd } from '../../src/log-file/index.js';
import { compactJson, encodeRequestLine, encodeResponseLine, SESSION_END_LINE } from '../../src/protocol/index.js';

describe('protocol: lines', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rms-lines-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes request and response lines exactly as the reference frames them', () => {
    assert.equal(
      encodeRequestLine('{"a":1}', 3, { timestampMs: 1700000000000 }).toString(),
      'LLM_REQUEST_START{"a":1}LLM_REQUEST_END{"timestamp": 1700000000000, "index": 3}\n',
    );
    assert.equal(
      encodeResponseLine('{"b":2}', 3, 5).toString(),
      'LLM_RESPONSE_START{"b":2}LLM_RESPONSE_END{"timestamp": 5, "index": 3}\n',
    );
    assert.equal(SESSION_END_LINE.toString(), 'SESSION_END\n');
  });

  it('a line with a marker-laden payload is read whole by the reference reader, which splits on markers', () => {
    const payload = compactJson(JSON.stringify({ messages: [{ content: 'LLM_REQUEST_END SESSION_END LLM_RESPONSE_START' }] }));
    const line = encodeRequestLine(payload, 1).toString().trimEnd();
    // The reference: line.split(REQUEST_START)[1].split(REQUEST_END)[0], and `"SESSION_END" in line`.
    const body = line.split('LLM_REQUEST_START')[1]!.split('LLM_REQUEST_END')[0]!;
    const meta = JSON.parse(line.split('LLM_REQUEST_END')[1]!);
    assert.equal(JSON.parse(body).messages[0].content, 'LLM_REQUEST_END SESSION_END LLM_RESPONSE_START');
    assert.equal(meta.index, 1);
    assert.ok(!line.includes('SESSION_END'));
  });

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
});
