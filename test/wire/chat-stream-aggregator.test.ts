import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChatStreamAggregator } from '../../src/wire/chat-stream-aggregator.js';

const event = (chunk: object) => `data: ${JSON.stringify(chunk)}\n\n`;
const delta = (d: object, finish: string | null = null, index = 0) => ({ id: 'c', object: 'chat.completion.chunk', created: 5, model: 'm', choices: [{ index, delta: d, finish_reason: finish }] });

function aggregate(text: string, cuts: number[] = []): ChatStreamAggregator {
  const bytes = Buffer.from(text);
  const agg = new ChatStreamAggregator();
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
});
