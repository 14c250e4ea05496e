import assert from 'node:assert/strict';
import { chatCompletionChunks, completionToChunk, completionToSse } from '../../src/wire/chat-chunks.js';
import { BadResponseError } from '../../src/errors.js';
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

describe('chatCompletionChunks', () => {
  it('cuts a completion into message, finish and usage chunks, numbers as the runtime wrote them', () => {
    const text = '{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"n","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12345678901234567890,"completion_tokens":1.50,"total_tokens":3}}';
    const chunks = chatCompletionChunks(text);
    assert.equal(chunks.length, 3);
    assert.equal(JSON.parse(chunks[0]!).choices[0].delta.tool_calls[0].index, 0);
    assert.equal(JSON.parse(chunks[1]!).choices[0].finish_reason, 'tool_calls');
    assert.ok(chunks[2]!.includes('"prompt_tokens":12345678901234567890,"completion_tokens":1.50'));
  });

  it('refuses an answer that is not a chat completion with a 502 error naming the index', () => {
    assert.throws(() => chatCompletionChunks('{"output":[]}', 7), (err: unknown) => err instanceof BadResponseError && err.index === 7 && /no choices/.test(err.message));
    assert.throws(() => chatCompletionChunks('not json', 7), BadResponseError);
  });
});
