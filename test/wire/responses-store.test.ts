import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UnknownResponseError } from '../../src/errors.js';
import { ResponsesStore } from '../../src/wire/responses-store.js';

describe('wire: ResponsesStore', () => {
  it('reads a chain back as one array: each response its input then its output, oldest first', () => {
    const store = new ResponsesStore();
    store.put('r1', null, '[{"role":"user","content":"a"}]', '[{"type":"message","id":"m1"}]');
    store.put('r2', 'r1', '[]', '[{"type":"message","id":"m2"}]');
    store.put('r3', 'r2', '[{"role":"user","content":"c"}]', '[]');
    assert.equal(store.history('r3'), '[{"role":"user","content":"a"},{"type":"message","id":"m1"},{"type":"message","id":"m2"},{"role":"user","content":"c"}]');
    assert.equal(store.history('r1'), '[{"role":"user","content":"a"},{"type":"message","id":"m1"}]');
  });

  it('evicts the oldest past the count or byte bound; a chain through an evicted response says which', () => {
    const store = new ResponsesStore({ maxResponses: 2, maxBytes: 1000 });
    store.put('r1', null, '[1]', '[2]');
    store.put('r2', 'r1', '[3]', '[4]');
    store.put('r3', 'r2', '[5]', '[6]');
    assert.equal(store.size, 2);
    assert.throws(() => store.history('r3'), (err: unknown) => err instanceof UnknownResponseError && /continues "r1", which this service no longer keeps/.test(err.message) && /2 responses, 1000 bytes/.test(err.message));
    const small = new ResponsesStore({ maxBytes: 20 });
    small.put('a', null, '[1]', '[2]');
    small.put('b', null, '["0123456789"]', '[]');
    assert.equal(small.size, 1, 'the older entry made room');
    small.put('huge', null, `["${'x'.repeat(100)}"]`, '[]');
    assert.throws(() => small.history('huge'), UnknownResponseError);
  });

  it('stays within both bounds whatever is put', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(20), fc.string({ maxLength: 40 })), { maxLength: 60 }), (puts) => {
        const store = new ResponsesStore({ maxResponses: 7, maxBytes: 300 });
        for (const [id, text] of puts) store.put(`r${id}`, null, JSON.stringify([text]), '[]');
        assert.ok(store.size <= 7);
        assert.ok(store.byteSize <= 300);
        assert.ok(store.byteSize >= 0);
      }),
    );
  });
});
