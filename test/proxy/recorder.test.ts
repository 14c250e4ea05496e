import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecorder, RawJson, type CallRecord } from '../../src/proxy/recorder.js';

describe('CallRecorder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rms-recorder-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
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
});
