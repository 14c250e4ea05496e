import assert from 'node:assert/strict';
import { SseReader } from '../../src/wire/sse-reader.js';

describe('SseReader', () => {
  it('cuts events at blank lines in any line-ending style, across reads and split UTF-8 sequences', () => {
    const reader = new SseReader(1024);
    const bytes = Buffer.from('data: {"a":"é"}\n\nevent: x\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\r\r');
    const events = [];
    for (let i = 0; i < bytes.length; i++) events.push(...reader.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(
      events.map((e) => e.data),
      ['{"a":"é"}', '1\n2', ''],
    );
    assert.deepEqual(
      events.map((e) => e.at),
      [0, 18, 48],
    );
    assert.equal(reader.offset, bytes.length);
  });

  it('gives the last event at the end even without its blank line, and nothing for blank text', () => {
    const reader = new SseReader(1024);
    assert.deepEqual(reader.push('data: [DONE]'), []);
    assert.deepEqual(
      reader.end().map((e) => e.data),
      ['[DONE]'],
    );
    const blank = new SseReader(1024);
    blank.push('\n');
    assert.deepEqual(blank.end(), []);
  });

  it('drops an event longer than its bound as it grows, holding no more than the bound, and reads on after it', () => {
    const reader = new SseReader(4096);
    assert.deepEqual(reader.push('data: {"ok":1}\n\n').length, 1);
    for (let i = 0; i < 1000; i++) assert.deepEqual(reader.push(`data: ${'x'.repeat(1000)}`), []);
    assert.equal(reader.overlong, 1);
    assert.equal(reader.firstOverlongAt, 16);
    assert.ok((reader as unknown as { pending: string }).pending.length <= 4096);
    assert.deepEqual(
      reader.push('\n\ndata: {"next":2}\n\n').map((e) => e.data),
      ['{"next":2}'],
    );
    assert.equal(reader.overlong, 1);
  });

  it('drops a whole event longer than its bound that arrives in one read', () => {
    const reader = new SseReader(100);
    assert.deepEqual(
      reader.push(`data: ${'y'.repeat(200)}\n\ndata: small\n\n`).map((e) => e.data),
      ['small'],
    );
    assert.equal(reader.overlong, 1);
  });
});
