import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CallRecorder, RawJson, type CallRecord } from '../../src/proxy/recorder.js';
import { runWithFileSizeLimit } from '../helpers/file-size-limit.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('CallRecorder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = makeTempDir('recorder');
  });
  afterEach(async () => {
    removeDir(dir);
  });

  const record = (n: number, request: Buffer): CallRecord => ({
    model: 'm',
    stream: false,
    status: 'success',
    status_code: 200,
    response_time: 0.5,
    start_time: '2026-01-01T00:00:00.000Z',
    end_time: '2026-01-01T00:00:00.500Z',
    request: new RawJson(request),
    response: new RawJson(Buffer.from(`{"n":${n}}`)),
    error: null,
  });

  it('writes every queued line before close() resolves, in order, into a directory it creates', async () => {
    const file = join(dir, 'deep', 'rec.jsonl');
    const recorder = new CallRecorder(file, (err) => assert.fail(err));
    for (let n = 0; n < 200; n++) recorder.append(record(n, Buffer.from(`{"n":${n},"pad":"${'x'.repeat(n * 50)}"}`)));
    await recorder.close();
    const lines = (await readFile(file, 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { response: { n: number } }).response.n),
      Array.from({ length: 200 }, (_, n) => n),
    );
    assert.deepEqual(Object.keys(JSON.parse(lines[0]!)), ['model', 'stream', 'status', 'status_code', 'response_time', 'start_time', 'end_time', 'request', 'response', 'error']);
  });

  it('appends to what the file already holds', async () => {
    const file = join(dir, 'rec.jsonl');
    for (let round = 0; round < 2; round++) {
      const recorder = new CallRecorder(file, (err) => assert.fail(err));
      recorder.append(record(round, Buffer.from('{}')));
      await recorder.close();
    }
    assert.equal((await readFile(file, 'utf8')).split('\n').length, 3);
  });

  it('keeps raw JSON with line breaks on one line and the same value, without touching the caller\'s bytes', async () => {
    const file = join(dir, 'rec.jsonl');
    const bytes = Buffer.from('{\r\n "a": [1,\n 2],\r "b": "x\\ny"\n}');
    const original = Buffer.from(bytes);
    const recorder = new CallRecorder(file, (err) => assert.fail(err));
    recorder.append(record(1, bytes));
    await recorder.close();
    const lines = (await readFile(file, 'utf8')).split('\n');
    assert.equal(lines.length, 2);
    assert.deepEqual((JSON.parse(lines[0]!) as { request: unknown }).request, { a: [1, 2], b: 'x\ny' });
    assert.deepEqual(bytes, original);
  });

  it('records a call whose response is nested 20 000 deep, with the response left out and the cut marked', async () => {
    const file = join(dir, 'rec.jsonl');
    const errors: Error[] = [];
    const recorder = new CallRecorder(file, (err) => errors.push(err));
    const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown;
    recorder.append({ ...record(1, Buffer.from('{}')), response: { choices: [{ message: { content: 'x', vendor: deep } }] } });
    recorder.append(record(2, Buffer.from('{}')));
    await recorder.close();
    const lines = (await readFile(file, 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!) as { response: unknown; truncated: { reason: string } };
    assert.equal(first.response, null);
    assert.match(first.truncated.reason, /response .*nested deeper than a record may be \(1000 levels\)/);
    assert.deepEqual(errors, []);
  });

  it('writes the truncated mark a caller gives, after the other fields', async () => {
    const file = join(dir, 'rec.jsonl');
    const recorder = new CallRecorder(file, (err) => assert.fail(err));
    const truncated = { reason: 'the answer passed record_max_bytes', at_bytes: 10, limit_bytes: 8 };
    recorder.append({ ...record(1, Buffer.from('{}')), truncated });
    await recorder.close();
    const line = JSON.parse((await readFile(file, 'utf8')).trim()) as Record<string, unknown>;
    assert.deepEqual(line.truncated, truncated);
    assert.equal(Object.keys(line).at(-1), 'truncated');
  });

  it('a short write (file-size limit) leaves no partial record line: it is cut off, the lost records reported, the whole lines before it kept', async () => {
    const file = join(dir, 'rec.jsonl');
    const script = `
      import { CallRecorder, RawJson } from ${JSON.stringify(new URL('../../src/proxy/recorder.ts', import.meta.url).href)};
      process.on('SIGXFSZ', () => {});
      const rec = (pad) => ({ model: 'm', stream: false, status: 'success', status_code: 200, response_time: 0, start_time: 's', end_time: 'e',
        request: new RawJson(Buffer.from(JSON.stringify({ pad }))), response: null, error: null });
      const errors = [];
      let recorder = new CallRecorder(${JSON.stringify(file)}, (e) => errors.push(e.message));
      recorder.append(rec('small'));
      await new Promise((r) => setTimeout(r, 50));
      // The first append of a tick writes at once; the three after it go out together in one writev.
      recorder.append(rec('b1'));
      recorder.append(rec('b2'));
      recorder.append(rec('x'.repeat(10_000)));
      recorder.append(rec('lost with it'));
      await recorder.close();
      recorder = new CallRecorder(${JSON.stringify(file)}, (e) => errors.push(e.message));
      recorder.append(rec('after'));
      await recorder.close();
      console.log(JSON.stringify(errors));
    `;
    const out = await runWithFileSizeLimit(script, 4);
    const errors = JSON.parse(out) as string[];
    assert.equal(errors.length, 1, out);
    assert.match(errors[0]!, /only \d+ of \d+ bytes reached .*: 2 records not recorded; the partial line was removed/);
    const content = await readFile(file, 'utf8');
    assert.ok(content.endsWith('\n'), 'the file ends on a line boundary');
    const pads = content.trim().split('\n').map((l) => (JSON.parse(l) as { request: { pad: string } }).request.pad);
    assert.deepEqual(pads, ['small', 'b1', 'b2', 'after']);
  });
});
