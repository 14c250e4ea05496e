import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbortedError, TimeoutError } from '../../src/errors.js';
import { RequestWaiters } from '../../src/client/request-waiters.js';
import { encodeRequestLine } from '../../src/protocol/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('RequestWaiters', () => {
  let dir: string;
  let log: string;
  let waiters: RequestWaiters;
  beforeEach(() => {
    dir = makeTempDir('request-waiters');
    log = join(dir, 'LLMService.log');
    writeFileSync(log, '');
    waiters = new RequestWaiters(log);
  });
  afterEach(() => {
    waiters.close();
    removeDir(dir);
  });

  it('a --timeout of 2147484 s (past one Node timer) keeps waiting instead of failing at once', async () => {
    let settled = false;
    const wait = waiters.waitFor(1, 0, { timeoutMs: 2_147_484_000 }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(settled, false, 'the wait ended within 150 ms');
    appendFileSync(log, encodeRequestLine('{"q":1}', 1));
    assert.equal((await wait)!.toString(), '{"q":1}');
  });

  it('times out with the runtime-side message and aborts like the router does', async () => {
    await assert.rejects(waiters.waitFor(2, 0, { timeoutMs: 30 }), (err: Error) => err instanceof TimeoutError && /timed out after 0.03 s waiting for request 2/.test(err.message));
    const cancel = new AbortController();
    const wait = waiters.waitFor(2, 0, { signal: cancel.signal });
    cancel.abort(new Error('runtime stopping'));
    await assert.rejects(wait, (err: Error) => err instanceof AbortedError && err.message === 'the wait for request 2 was aborted: runtime stopping');
  });

  it('several waits for one request all get it', async () => {
    const waits = [waiters.waitFor(3, 0, {}), waiters.waitFor(3, 0, {})];
    appendFileSync(log, encodeRequestLine('{"q":3}', 3));
    assert.deepEqual((await Promise.all(waits)).map((b) => b!.toString()), ['{"q":3}', '{"q":3}']);
  });
});
