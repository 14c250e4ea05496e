import assert from 'node:assert/strict';
import { completionToChunk, completionToSse } from '../../src/wire/chat-chunks.js';
import { ChatStreamAggregator } from '../../src/wire/chat-stream-aggregator.js';

describe('completionToChunk', () => {
  const completion = {
    id: 'x',
    object: 'chat.completion',
    created: 9,
    model: 'm',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'hi', reasoning_content: 'why', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { total_tokens: 2 },
  };

  it('turns each message into its delta, gives tool calls their index, and keeps usage and vendor fields', () => {
    assert.deepEqual(completionToChunk(completion), {
      id: 'x',
      object: 'chat.completion.chunk',
      created: 9,
      model: 'm',
      choices: [
        {
          index: 0,
          delta: { role: 'assistant', content: 'hi', reasoning_content: 'why', tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { total_tokens: 2 },
    });
  });

  it('makes one event plus [DONE] that aggregates back to the same completion', () => {
    const sse = completionToSse(completion);
    assert.equal(sse.split('\n\n').filter((e) => e !== '').length, 2);
    assert.ok(sse.endsWith('data: [DONE]\n\n'));
    const agg = new ChatStreamAggregator();
    agg.push(Buffer.from(sse));
    agg.end();
    assert.deepEqual(agg.result(), completion);
  });
});
