import assert from 'node:assert/strict';
import { appendFileSync, linkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbortedError, BadResponseError, InvalidArgumentError, SessionEndedError, TimeoutError } from '../../src/errors.js';
import { LogFollower, ResponseRouter } from '../../src/follower/index.js';
import { compactJson, encodeRequestLine, encodeResponseLine, SESSION_END_LINE } from '../../src/protocol/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('ResponseRouter', () => {
  let dir: string;
  let path: string;
  let follower: LogFollower;
  let router: ResponseRouter;

  beforeEach(() => {
    dir = makeTempDir('router');
    path = join(dir, 'LLMService.log');
    writeFileSync(path, '');
    follower = new LogFollower(path);
    router = new ResponseRouter(follower);
  });
  afterEach(() => {
    router.close();
    follower.close();
    removeDir(dir);
  });

  it('resolves the waiter of a response index with the payload text as stored, leaving the others waiting', async () => {
    const one = router.waitFor(1);
    const two = router.waitFor(2);
    appendFileSync(path, Buffer.concat([encodeRequestLine('{"q":1}', 1), encodeResponseLine(compactJson('{"a": "SESSION_END"}'), 2)]));
    assert.equal(await two, '{"a":"SESSION\\u005fEND"}');
    assert.equal(router.pending, 1);
    appendFileSync(path, encodeResponseLine('{"a":1}', 1));
    assert.equal(await one, '{"a":1}');
    assert.equal(router.pending, 0);
  });

  it('polls for its waiters when no file event comes (a write through a hard link in another directory)', async () => {
    const other = makeTempDir('router-link');
    try {
      const alias = join(other, 'alias.log');
      linkSync(path, alias);
      const wait = router.waitFor(1);
      appendFileSync(alias, encodeResponseLine('{"polled":true}', 1));
      assert.equal(await wait, '{"polled":true}');
    } finally {
      removeDir(other);
    }
  });

  it('serves a thousand waiters on one follower, answered in reverse order', async () => {
    const n = 1000;
    const waits = Array.from({ length: n }, (_, i) => router.waitFor(i + 1));
    assert.equal(router.pending, n);
    appendFileSync(path, Buffer.concat(Array.from({ length: n }, (_, i) => encodeResponseLine(`{"n":${n - i}}`, n - i))));
    const answers = await Promise.all(waits);
    assert.deepEqual(answers, Array.from({ length: n }, (_, i) => `{"n":${i + 1}}`));
    assert.equal(router.pending, 0);
  });

  it('fails every waiter on SESSION_END and refuses later waits at once', async () => {
    const waits = [router.waitFor(1), router.waitFor(2)].map((p) => p.catch((err: unknown) => err));
    appendFileSync(path, SESSION_END_LINE);
    for (const err of await Promise.all(waits)) assert.ok(err instanceof SessionEndedError);
    assert.equal(router.pending, 0);
    assert.ok(router.sessionEnded);
    await assert.rejects(router.waitFor(3), SessionEndedError);
  });

  it('releases a waiter whose request was cancelled', async () => {
    const cancel = new AbortController();
    const wait = router.waitFor(1, { signal: cancel.signal });
    assert.equal(router.pending, 1);
    cancel.abort();
    await assert.rejects(wait, AbortedError);
    assert.equal(router.pending, 0);
    await assert.rejects(router.waitFor(2, { signal: AbortSignal.abort() }), AbortedError);
    assert.equal(router.pending, 0);
  });

  it('cancels one waiter by index with the given error, and says whether one waited', async () => {
    const one = router.waitFor(1);
    const two = router.waitFor(2);
    assert.equal(router.cancel(1, new AbortedError('agent gone')), true);
    await assert.rejects(one, /agent gone/);
    assert.equal(router.cancel(1, new AbortedError('again')), false);
    assert.equal(router.pending, 1);
    appendFileSync(path, encodeResponseLine('{}', 2));
    assert.equal(await two, '{}');
  });

  it('rejects with the abort reason when it is one of ours', async () => {
    const cancel = new AbortController();
    const wait = router.waitFor(1, { signal: cancel.signal });
    cancel.abort(new TimeoutError('gave up', 5));
    await assert.rejects(wait, TimeoutError);
  });

  it('times a waiter out and releases it', async () => {
    await assert.rejects(router.waitFor(1, { timeoutMs: 20 }), (err: unknown) => err instanceof TimeoutError && /index 1/.test(err.message));
    assert.equal(router.pending, 0);
  });

  it('refuses a second waiter for the same index', async () => {
    const first = router.waitFor(1);
    await assert.rejects(router.waitFor(1), InvalidArgumentError);
    appendFileSync(path, encodeResponseLine('{}', 1));
    assert.equal(await first, '{}');
  });

  it('keeps waiters through a truncation and answers them from the new content', async () => {
    appendFileSync(path, Buffer.concat([encodeRequestLine('{"q":1}', 1), encodeRequestLine('{"q":2}', 2)]));
    const wait = router.waitFor(2);
    follower.poke();
    writeFileSync(path, encodeResponseLine('{"again":true}', 2));
    assert.equal(await wait, '{"again":true}');
  });

  it('fails only the waiter of a response that is not UTF-8; the good response appended with it is still delivered', async () => {
    const bad = router.waitFor(1);
    const good = router.waitFor(2);
    const badLine = Buffer.concat([Buffer.from('LLM_RESPONSE_START{"m":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}LLM_RESPONSE_END{"timestamp": 0, "index": 1}\n')]);
    appendFileSync(path, Buffer.concat([badLine, encodeResponseLine('{"b":2}', 2)]));
    follower.poke();
    assert.equal(await good, '{"b":2}');
    await assert.rejects(bad, (err: Error) => {
      assert.ok(err instanceof BadResponseError);
      assert.equal(err.code, 'RMS_BAD_RESPONSE');
      assert.equal(err.index, 1);
      assert.match(err.message, /response 1 in .*LLMService\.log is not valid UTF-8/);
      return true;
    });
    assert.equal(router.pending, 0);
  });

  it('fails the waiter of a response that is not JSON, or is cut short, with BadResponseError', async () => {
    const notJson = router.waitFor(1);
    const truncated = router.waitFor(2);
    const good = router.waitFor(3);
    appendFileSync(path, Buffer.concat([encodeResponseLine('not json at all', 1), encodeResponseLine('{"choices":[', 2), encodeResponseLine('{"c":3}', 3)]));
    follower.poke();
    assert.equal(await good, '{"c":3}');
    for (const [index, wait] of [[1, notJson], [2, truncated]] as const) {
      await assert.rejects(wait, (err: Error) => {
        assert.ok(err instanceof BadResponseError);
        assert.match(err.message, new RegExp(`response ${index} in .* is not valid JSON`));
        return true;
      });
    }
  });

  it('a request timeout past 2^31-1 ms does not end the wait at once', async () => {
    let settled = false;
    const wait = router.waitFor(1, { timeoutMs: 2_592_000_000 }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(settled, false, 'a 30-day request timeout fired within 100 ms');
    appendFileSync(path, encodeResponseLine('{"late":true}', 1));
    assert.equal(await wait, '{"late":true}');
  });

  it('fails pending waiters with AbortedError on close', async () => {
    const wait = router.waitFor(1);
    router.close();
    await assert.rejects(wait, AbortedError);
  });
});
