import assert from 'node:assert/strict';
import { retryDelayMs } from '../../src/proxy/backoff.js';

describe('retryDelayMs', () => {
  const retry = { maxAttempts: 6, initialDelayMs: 2000, maxDelayMs: 60_000 };

  it('starts at the initial delay and doubles per attempt, within a quarter either way', () => {
    for (const [attempt, base] of [[1, 2000], [2, 4000], [3, 8000], [5, 32_000]] as const) {
      assert.equal(retryDelayMs(attempt, retry, () => 0.5), base);
      assert.equal(retryDelayMs(attempt, retry, () => 0), base * 0.75);
      assert.equal(retryDelayMs(attempt, retry, () => 0.999_999), Math.round(base * 1.249_999_5));
    }
  });

  it('never waits longer than the maximum delay', () => {
    assert.equal(retryDelayMs(10, retry, () => 0.9), 60_000);
    assert.equal(retryDelayMs(2, { ...retry, maxDelayMs: 3000 }, () => 0.5), 3000);
  });
});
