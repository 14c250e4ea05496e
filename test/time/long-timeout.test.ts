import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { clearLongTimeout, MAX_TIMER_MS, setLongTimeout } from '../../src/time/long-timeout.js';

describe('time: long timeouts', () => {
  it('does not fire a delay past 2^31-1 ms early, and warns of no overflow', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    let fired = 0;
    const handles = [MAX_TIMER_MS + 1, 2 ** 40, 1e9 * 1000, Infinity].map((ms) => setLongTimeout(() => fired++, ms));
    await sleep(50);
    handles.forEach(clearLongTimeout);
    process.off('warning', onWarning);
    assert.equal(fired, 0);
    assert.deepEqual(warnings.map((w) => w.name), []);
  });

  it('fires a short delay once, and not at all once cleared', async () => {
    let fired = 0;
    setLongTimeout(() => fired++, 5);
    clearLongTimeout(setLongTimeout(() => fired++, 5));
    await sleep(40);
    assert.equal(fired, 1);
  });
});
