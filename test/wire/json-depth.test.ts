import assert from 'node:assert/strict';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../src/wire/json-depth.js';

const nested = (depth: number): unknown => JSON.parse('[{"a":'.repeat(depth / 2) + '1' + '}]'.repeat(depth / 2));

describe('jsonDepthExceeds', () => {
  it('counts containers, not scalars', () => {
    assert.equal(jsonDepthExceeds('x', 0), false);
    assert.equal(jsonDepthExceeds(null, 0), false);
    assert.equal(jsonDepthExceeds([], 0), true);
    assert.equal(jsonDepthExceeds([], 1), false);
    assert.equal(jsonDepthExceeds({ a: [1, { b: 2 }] }, 3), false);
    assert.equal(jsonDepthExceeds({ a: [1, { b: {} }] }, 3), true);
  });

  it('measures a million-deep value without overflowing the stack', () => {
    const deep = nested(1_000_000);
    assert.equal(jsonDepthExceeds(deep), true);
    assert.equal(jsonDepthExceeds(deep, 1_000_000), false);
  });

  it('allows exactly the bound, and the bound is one JSON.stringify can serialise', () => {
    const atBound = nested(MAX_JSON_DEPTH);
    assert.equal(jsonDepthExceeds(atBound), false);
    assert.equal(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 2)), true);
    assert.doesNotThrow(() => JSON.stringify({ record: { response: atBound } }));
  });

  it('walks a wide value (300 000 entries) in one pass', () => {
    const wide = { content: Array.from({ length: 300_000 }, (_, i) => ({ token: 't', logprob: -i })) };
    assert.equal(jsonDepthExceeds(wide, 3), false);
    assert.equal(jsonDepthExceeds(wide, 2), true);
  });
});
