import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChatStreamAggregator } from '../../src/wire/chat-stream-aggregator.js';
import { MAX_JSON_DEPTH } from '../../src/wire/json-depth.js';

const event = (chunk: object) => `data: ${JSON.stringify(chunk)}\n\n`;
const delta = (d: object, finish: string | null = null, index = 0) => ({ id: 'c', object: 'chat.completion.chunk', created: 5, model: 'm', choices: [{ index, delta: d, finish_reason: finish }] });

function aggregate(text: string, cuts: number[] = [], maxBytes?: number): ChatStreamAggregator {
  const bytes = Buffer.from(text);
  const agg = new ChatStreamAggregator({ maxBytes });
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    agg.push(bytes.subarray(from, cut));
    from = cut;
  }
  agg.push(bytes.subarray(from));
  agg.end();
  return agg;
}

describe('ChatStreamAggregator', () => {
  const stream =
    event(delta({ role: 'assistant', content: 'Grüß ' })) +
    event(delta({ content: 'dich 🌍', reasoning_content: 'r1' })) +
    event(delta({ reasoning_content: 'r2', tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '[' } }] })) +
    event(delta({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{' } }] })) +
    event(delta({ tool_calls: [{ index: 0, id: '', function: { name: '', arguments: '}' } }, { index: 1, function: { arguments: ']' } }] })) +
    event(delta({}, 'tool_calls')) +
    'data: [DONE]\n\n';
  const expected = {
    id: 'c',
    object: 'chat.completion',
    created: 5,
    model: 'm',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Grüß dich 🌍',
          reasoning_content: 'r1r2',
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'g', arguments: '[]' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ],
  };

  it('joins content, vendor string fields and tool-call fragments by index, keeping id, type and name from the first fragment', () => {
    const agg = aggregate(stream);
    assert.deepEqual(agg.result(), expected);
    assert.equal(agg.done, true);
  });

  it('gives the same result wherever the bytes are cut, inside UTF-8 characters and line endings included', () => {
    const size = Buffer.byteLength(stream);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: size }), { maxLength: 12 }), (cuts) => {
        assert.deepEqual(aggregate(stream, cuts).result(), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads CRLF and CR line endings, multi-line data and comments', () => {
    const crlf = `: keep-alive\r\n\r\ndata: ${JSON.stringify(delta({ content: 'a' }))}\r\n\r\nevent: message\rdata: ${JSON.stringify(delta({ content: 'b' }))}\r\rdata: {"id":"c","choices":\ndata: [{"index":0,"delta":{"content":"c"}}]}\n\n`;
    assert.equal((aggregate(crlf).result().choices as { message: { content: string } }[])[0]!.message.content, 'abc');
  });

  it('skips an event that is not JSON and counts it, keeping the rest', () => {
    const agg = aggregate(event(delta({ content: 'x' })) + 'data: {oops\n\n' + 'data: 42\n\n' + event(delta({ content: 'y' }, 'stop')));
    assert.equal(agg.skipped, 2);
    const [choice] = agg.result().choices as { message: { content: string }; finish_reason: string }[];
    assert.equal(choice!.message.content, 'xy');
    assert.equal(choice!.finish_reason, 'stop');
  });

  it('keeps the usage chunk, several choices apart, logprobs, and a last event that lacks its blank line', () => {
    const agg = aggregate(
      event(delta({ content: 'one' }, null, 0)) +
        event({ ...delta({ content: 'two' }, 'stop', 1), system_fingerprint: 'fp' }) +
        event({ id: 'c', choices: [{ index: 0, delta: { content: '!' }, logprobs: { content: [{ token: '!', logprob: -1 }] }, finish_reason: 'length' }] }) +
        `data: ${JSON.stringify({ id: 'c', choices: [], usage: { total_tokens: 3 } })}`,
    );
    const result = agg.result() as { choices: { index: number; message: { content: string }; finish_reason: string; logprobs?: unknown }[]; usage: unknown; system_fingerprint: string };
    assert.deepEqual(result.choices.map((c) => [c.index, c.message.content, c.finish_reason]), [
      [0, 'one!', 'length'],
      [1, 'two', 'stop'],
    ]);
    assert.deepEqual(result.choices[0]!.logprobs, { content: [{ token: '!', logprob: -1 }] });
    assert.deepEqual(result.usage, { total_tokens: 3 });
    assert.equal(result.system_fingerprint, 'fp');
    assert.equal(agg.done, false);
  });

  it('joins a legacy function_call the same way', () => {
    const agg = aggregate(event(delta({ function_call: { name: 'f', arguments: '{"a"' } })) + event(delta({ function_call: { arguments: ':1}' } })));
    const [choice] = agg.result().choices as { message: { content: null; function_call: unknown } }[];
    assert.deepEqual(choice!.message.function_call, { name: 'f', arguments: '{"a":1}' });
    assert.equal(choice!.message.content, null);
  });

  describe('bounds', () => {
    type Choice = { message: { content: string | null }; finish_reason: string | null; logprobs?: { content: unknown[] } };

    it('keeps a chunk with 300 000 logprobs entries without overflowing the stack', () => {
      const entries = Array.from({ length: 300_000 }, (_, i) => ({ token: 't', logprob: -i, bytes: null, top_logprobs: [] }));
      const agg = aggregate(event({ id: 'c', choices: [{ index: 0, delta: { content: 'x' }, logprobs: { content: entries }, finish_reason: 'stop' }] }), [], 64 * 1024 * 1024);
      const [choice] = agg.result().choices as Choice[];
      assert.equal(choice!.logprobs!.content.length, 300_000);
      assert.equal(agg.truncated, undefined);
    });

    it('stops keeping an endless stream at maxBytes, marks the cut, and still takes the finish reason and usage', () => {
      const maxBytes = 1024 * 1024;
      const agg = new ChatStreamAggregator({ maxBytes });
      const piece = Buffer.from(event(delta({ content: 'y'.repeat(64 * 1024) })));
      const before = process.memoryUsage().heapUsed;
      let pushed = 0;
      for (; pushed < 200 * 1024 * 1024; pushed += piece.length) agg.push(piece);
      const grown = process.memoryUsage().heapUsed - before;
      agg.push(Buffer.from(event({ ...delta({}, 'length'), usage: { total_tokens: 7 } }) + 'data: [DONE]\n\n'));
      agg.end();
      assert.ok(grown < 64 * 1024 * 1024, `the heap grew by ${grown} bytes for a 1 MiB bound`);
      const result = agg.result() as { choices: Choice[]; usage: unknown };
      const content = result.choices[0]!.message.content!;
      assert.ok(content.length > 0 && content.length <= maxBytes, `kept ${content.length} chars`);
      assert.equal(result.choices[0]!.finish_reason, 'length');
      assert.deepEqual(result.usage, { total_tokens: 7 });
      assert.equal(agg.done, true);
      const cut = agg.truncated!;
      assert.equal(cut.limit_bytes, maxBytes);
      assert.equal(cut.at_bytes % piece.length, 0, 'the cut falls on an event boundary');
      assert.ok(cut.at_bytes <= maxBytes && cut.at_bytes > maxBytes - piece.length);
      assert.equal(content.length, (cut.at_bytes / piece.length) * 64 * 1024);
      assert.match(cut.reason, /record_max_bytes/);
    });

    it('holds no more than maxBytes of one endless event that never ends its line', () => {
      const maxBytes = 1024 * 1024;
      const agg = new ChatStreamAggregator({ maxBytes });
      agg.push(Buffer.from(event(delta({ content: 'a' }))));
      agg.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"'));
      const piece = Buffer.alloc(1024 * 1024, 'z');
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 256; i++) agg.push(piece);
      const grown = process.memoryUsage().heapUsed - before;
      agg.push(Buffer.from('"}}]}\n\n' + event(delta({}, 'stop'))));
      agg.end();
      assert.ok(grown < 64 * 1024 * 1024, `the heap grew by ${grown} bytes for a 1 MiB bound`);
      const [choice] = agg.result().choices as Choice[];
      assert.equal(choice!.message.content, 'a');
      assert.equal(choice!.finish_reason, 'stop');
      assert.match(agg.truncated!.reason, /longer than record_max_bytes/);
    });

    it('leaves out an event nested deeper than the record can hold, marks it, and keeps the rest', () => {
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      const agg = aggregate(
        event(delta({ content: 'a' })) +
          `data: {"choices":[{"index":0,"delta":{"content":"lost","vendor":${deep}}}]}\n\n` +
          event(delta({ content: 'b' }, 'stop')),
      );
      const result = agg.result();
      assert.doesNotThrow(() => JSON.stringify(result));
      const [choice] = result.choices as Choice[];
      assert.equal(choice!.message.content, 'ab');
      assert.match(agg.truncated!.reason, new RegExp(`nested deeper than a record may be \\(${MAX_JSON_DEPTH} levels\\)`));
    });
  });
});
