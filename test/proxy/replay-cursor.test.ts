import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReplayCursor } from '../../src/proxy/replay-cursor.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('ReplayCursor.load', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = makeTempDir('replay-cursor');
    file = join(dir, 'recording.jsonl');
  });
  afterEach(async () => {
    removeDir(dir);
  });

  const record = (extra: object = {}) => JSON.stringify({ model: 'm', status: 'success', request: {}, response: { id: 'r' }, error: null, ...extra });

  it('serves records in order, skipping blank lines, with CRLF line ends', async () => {
    await writeFile(file, `${record({ response: 1 })}\r\n\n${record({ response: 2, status_code: 429 })}`);
    const cursor = await ReplayCursor.load(file);
    assert.equal(cursor.size, 2);
    assert.deepEqual([cursor.next()?.response, cursor.next()?.statusCode, cursor.next()], [1, 429, undefined]);
  });

  for (const status of [1000, 99, 101, 100, 199, 600, 200.5, '200']) {
    it(`refuses a record with status_code ${JSON.stringify(status)} at load, naming the line`, async () => {
      await writeFile(file, `${record()}\n${record({ status_code: status })}\n`);
      await assert.rejects(ReplayCursor.load(file), (err: Error & { code: string; key: string }) => {
        assert.equal(err.code, 'RMS_CONFIG');
        assert.equal(err.key, 'replay_file');
        assert.match(err.message, /line 2 has status_code .* it must be an integer from 200 to 599/);
        return true;
      });
    });
  }

  it('accepts every status a call can be answered with', async () => {
    await writeFile(file, [200, 204, 301, 404, 499, 599].map((s) => record({ status_code: s })).join('\n'));
    assert.equal((await ReplayCursor.load(file)).size, 6);
  });

  it('refuses a response nested 20 000 deep at load, naming the line', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    await writeFile(file, `${record()}\n${record()}\n{"status":"success","response":{"choices":${deep}}}\n`);
    await assert.rejects(ReplayCursor.load(file), /line 3 has a response nested deeper than a record may be \(1000 levels\)/);
  });

  it('refuses a fifo at once instead of waiting for a writer, and a directory', async () => {
    execFileSync('mkfifo', [file]);
    await assert.rejects(ReplayCursor.load(file), /replay file .* is not a regular file \(it is a fifo\)/);
    await assert.rejects(ReplayCursor.load(dir), /is not a regular file \(it is a directory\)/);
  });
});
