import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { InvalidJsonError } from '../../src/errors.js';
import { chatCompletionsApi } from '../../src/wire/chat-completions-api.js';
import { completionToAgentStream } from '../../src/wire/agent-api.js';
import { agentApiForPath, createAgentApis } from '../../src/wire/agent-apis.js';
import { chunkText, completionText } from '../helpers/chat-completion.js';

const client = (body: string, type = 'text/event-stream') =>
  new OpenAI({ apiKey: 'x', maxRetries: 0, fetch: async () => new Response(body, { headers: { 'content-type': type } }) });

describe('wire: Chat Completions adapter (nothing to translate, the same face)', () => {
  it('toChat compacts the body, keeps its numbers and reads model and stream', () => {
    const t = chatCompletionsApi.toChat('{ "model": "m", "stream": true, "seed": 12345678901234567890, "messages": [] }');
    assert.equal(t.chat, '{"model":"m","stream":true,"seed":12345678901234567890,"messages":[]}');
    assert.equal(t.model, 'm');
    assert.equal(t.stream, true);
    assert.deepEqual(t.dropped, []);
    assert.throws(() => chatCompletionsApi.toChat('[1]'), InvalidJsonError);
  });

  it('streams chunks as data events and ends with [DONE]; the client rebuilds the completion', async () => {
    const text = completionText({ content: 'hi', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"n":1}' } }] }, 'tool_calls');
    const stream = chatCompletionsApi.createStream({});
    const sse = stream.start() + stream.heartbeat() + completionToAgentStream(stream, text);
    assert.ok(sse.endsWith('data: [DONE]\n\n'));
    const final = await client(sse).chat.completions.stream({ model: 'm', messages: [] }).finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, 'hi');
    assert.equal(final.choices[0]!.message.tool_calls![0]!.id, 'c');
  });

  it('a data field of several lines is sent as several data lines; [DONE] pushed through is not doubled', () => {
    const stream = chatCompletionsApi.createStream({});
    assert.equal(stream.push('{"a":\n1}'), 'data: {"a":\ndata: 1}\n\n');
    assert.equal(stream.push('[DONE]'), '');
    assert.equal(stream.end(), 'data: [DONE]\n\n');
    assert.equal(stream.end(), '');
  });

  it('an error in the stream is data: {"error":…}, which the client throws', async () => {
    const stream = chatCompletionsApi.createStream({});
    const sse = stream.push(chunkText({ content: 'a' })) + stream.fail(504, 'RMS_TIMEOUT', 'too slow');
    assert.equal(stream.push(chunkText({ content: 'b' })), '');
    await assert.rejects(client(sse).chat.completions.stream({ model: 'm', messages: [] }).finalChatCompletion(), (err: unknown) => err instanceof OpenAI.APIError && /too slow/.test(err.message));
    assert.deepEqual(JSON.parse(chatCompletionsApi.errorBody(404, 'RMS_NOT_FOUND', 'no route')), { error: { message: 'no route', type: 'not_found_error', code: 'RMS_NOT_FOUND' } });
  });

  it('routes by path, query string ignored', () => {
    const apis = createAgentApis();
    assert.equal(agentApiForPath(apis, '/v1/messages?beta=true')?.name, 'messages');
    assert.equal(agentApiForPath(apis, '/v1/responses')?.name, 'responses');
    assert.equal(agentApiForPath(apis, '/v1/chat/completions')?.name, 'chat-completions');
    assert.equal(agentApiForPath(apis, '/v1/messages/count_tokens'), undefined);
  });
});
