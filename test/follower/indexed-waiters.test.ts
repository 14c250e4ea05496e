import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AbortedError, SessionEndedError, TimeoutError } from '../../src/errors.js';
import { IndexedWaiters } from '../../src/follower/indexed-waiters.js';

/** 2147484 s, the `--timeout` that used to fire after 1 ms: past what one Node timer can hold. */
const PAST_ONE_TIMER_MS = 2_147_484_000;

function waiters(onBusy?: (busy: boolean) => void): IndexedWaiters<string> {
  return new IndexedWaiters<string>({ what: 'response', timeoutMessage: (i, ms) => `no ${i} in ${ms} ms`, onBusy });
}

describe('IndexedWaiters', () => {
  it('delivers a value to every wait of its index and leaves the others waiting', async () => {
    const w = waiters();
    const a = w.wait(1);
    const b = w.wait(1);
    const c = w.wait(2);
    assert.deepEqual([w.size, w.has(1), w.has(3), w.indexes()], [3, true, false, [1, 2]]);
    assert.equal(w.resolve(1, 'one'), true);
    assert.deepEqual(await Promise.all([a, b]), ['one', 'one']);
    assert.equal(w.resolve(1, 'again'), false);
    assert.deepEqual([w.size, w.indexes()], [1, [2]]);
    w.reject(2, new SessionEndedError());
    await assert.rejects(c, SessionEndedError);
    assert.equal(w.size, 0);
  });

  it('times a wait out with TimeoutError and its message, and forgets it', async () => {
    const w = waiters();
    await assert.rejects(w.wait(4, { timeoutMs: 20 }), (err: Error) => err instanceof TimeoutError && err.message === 'no 4 in 20 ms');
    assert.equal(w.size, 0);
  });

  it('a timeout past 2^31-1 ms keeps waiting instead of firing at once', async () => {
    const w = waiters();
    let settled = false;
    const wait = w.wait(1, { timeoutMs: PAST_ONE_TIMER_MS }).finally(() => (settled = true));
    await sleep(100);
    assert.equal(settled, false, 'the wait ended within 100 ms');
    w.resolve(1, 'late');
    assert.equal(await wait, 'late');
  });

  it('one abort behaviour: our own error as the reason is kept, any other becomes AbortedError naming the wait', async () => {
    const w = waiters();
    const ours = new AbortController();
    const first = w.wait(1, { signal: ours.signal });
    ours.abort(new TimeoutError('gave up', 5));
    await assert.rejects(first, (err: Error) => err instanceof TimeoutError && err.message === 'gave up');
    const theirs = new AbortController();
    const second = w.wait(2, { signal: theirs.signal });
    theirs.abort(new Error('client went away'));
    await assert.rejects(second, (err: Error) => err instanceof AbortedError && err.message === 'the wait for response 2 was aborted: client went away');
    await assert.rejects(w.wait(3, { signal: AbortSignal.abort() }), AbortedError);
    assert.equal(w.size, 0, 'an aborted signal registers nothing');
  });

  it('says when the first wait starts and the last one ends, once each', async () => {
    const calls: boolean[] = [];
    const w = waiters((busy) => calls.push(busy));
    const a = w.wait(1);
    const b = w.wait(2);
    w.resolveAll('x');
    await Promise.all([a, b]);
    assert.deepEqual(calls, [true, false]);
    const c = w.wait(3).catch(() => undefined);
    w.rejectAll(new AbortedError('stop'));
    await c;
    assert.deepEqual(calls, [true, false, true, false]);
  });

  it('with keepAlive, a pending wait without a timeout keeps the process alive', () => {
    const module = JSON.stringify(fileURLToPath(new URL('../../src/follower/indexed-waiters.ts', import.meta.url)));
    const script = (keepAlive: boolean): string => `
      const { IndexedWaiters } = await import(${module});
      const w = new IndexedWaiters({ what: 'request', keepAlive: ${keepAlive}, timeoutMessage: () => '' });
      w.wait(1).then((v) => console.log(v));
      setTimeout(() => w.resolve(1, 'delivered'), 300).unref();`;
    const run = (keepAlive: boolean): string =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(keepAlive)], { encoding: 'utf8' }).stdout.trim();
    assert.equal(run(true), 'delivered');
    assert.equal(run(false), '', 'without keepAlive the unref\'d timer lets the process end first');
  });
});
