import assert from 'node:assert/strict';
import { retryAfterMs, retryDelayMs } from '../../src/proxy/backoff.js';

describe('retryDelayMs', () => {
  const retry = { maxAttempts: 6, initialDelayMs: 2000, maxDelayMs: 60_000 };

  it('starts at the initial delay and doubles per attempt, within a quarter either way', () => {
    for (const [attempt, base] of [[1, 2000], [2, 4000], [3, 8000], [5, 32_000]] as const) {
      assert.equal(retryDelayMs(attempt, retry, 0, () => 0.5), base);
      assert.equal(retryDelayMs(attempt, retry, 0, () => 0), base * 0.75);
      assert.equal(retryDelayMs(attempt, retry, 0, () => 0.999_999), Math.round(base * 1.249_999_5));
    }
  });

  it('waits at least as long as the upstream asked with Retry-After', () => {
    assert.equal(retryDelayMs(1, retry, 7000, () => 0.5), 7000);
    assert.equal(retryDelayMs(3, retry, 7000, () => 0.5), 8000);
  });

  it('never waits longer than the maximum delay, whatever the upstream asked', () => {
    assert.equal(retryDelayMs(10, retry, 0, () => 0.9), 60_000);
    assert.equal(retryDelayMs(2, { ...retry, maxDelayMs: 3000 }, 0, () => 0.5), 3000);
    assert.equal(retryDelayMs(1, retry, 3_600_000, () => 0.5), 60_000);
  });
});

describe('retryDelayMs far past the usual attempts', () => {
  it('stays a number: no delay with a zero initial delay, the maximum otherwise, past attempt 1 024', () => {
    for (const attempt of [1024, 1025, 1026, 5000, 1e9]) {
      assert.equal(retryDelayMs(attempt, { maxAttempts: 1e9, initialDelayMs: 0, maxDelayMs: 60_000 }, 0, () => 0.5), 0);
      assert.equal(retryDelayMs(attempt, { maxAttempts: 1e9, initialDelayMs: 1, maxDelayMs: 60_000 }, 0, () => 0.5), 60_000);
    }
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and treats anything else as no advice', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs(' 1.5 '), 1500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
    assert.equal(retryAfterMs(undefined), 0);
    assert.equal(retryAfterMs('soon'), 0);
  });
});
