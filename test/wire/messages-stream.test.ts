import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { messagesApi } from '../../src/wire/messages-api.js';
import { BadResponseError } from '../../src/errors.js';
import type { MessagesState } from '../../src/wire/messages-request.js';

import { completionToAgentStream } from '../../src/wire/agent-api.js';
import { chunkText, completionText } from '../helpers/chat-completion.js';

const STATE: MessagesState = { model: 'claude-x', messageId: 'msg_1', tools: { mcp__long_1234abcd: { name: 'mcp.long.name' } }, stopSequences: [] };

/** The events of an SSE text, as [name, data] pairs. */
function events(sse: string): [string, Record<string, unknown>][] {
  return sse
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      const [name, data] = e.split('\n');
      return [name!.slice('event: '.length), JSON.parse(data!.slice('data: '.length))];
    });
}

/** The message the official client rebuilds from an SSE text. */
async function rebuild(sse: string): Promise<Anthropic.Message> {
  const client = new Anthropic({ apiKey: 'x', maxRetries: 0, fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }) });
  return client.messages.stream({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
}

function run(chunks: string[]): string {
  const stream = messagesApi.createStream(STATE);
  let out = '';
  for (const c of chunks) out += stream.push(c);
  return out + stream.end();
}

describe('wire: Messages event stream', () => {
  it('an answer with no chunks still makes a whole message: message_start, message_delta (end_turn), message_stop', async () => {
    const sse = run([]);
    assert.deepEqual(events(sse).map(([name]) => name), ['message_start', 'message_delta', 'message_stop']);
    const message = await rebuild(sse);
    assert.deepEqual(message.content, []);
    assert.equal(message.stop_reason, 'end_turn');
  });

  it('opens with its first chunk, not start(); skips [DONE] and text that is not JSON', () => {
    const stream = messagesApi.createStream(STATE);
    assert.equal(stream.start(), '');
    assert.equal(stream.push('[DONE]'), '');
    assert.equal(stream.push('{oops'), '');
    assert.deepEqual(events(stream.push('{"choices":[]}')).map(([name]) => name), ['message_start']);
    assert.equal(stream.push('{"choices":[]}'), '');
  });

  it('local mode: message_start carries the input token counts, as Anthropic sends them', () => {
    const sse = completionToAgentStream(messagesApi.createStream(STATE), completionText({ content: 'hi' }, 'stop', { prompt_tokens: 900, completion_tokens: 5, total_tokens: 905, prompt_tokens_details: { cached_tokens: 600 } }));
    const start = events(sse)[0]!;
    assert.equal(start[0], 'message_start');
    assert.deepEqual((start[1].message as { usage: unknown }).usage, { input_tokens: 300, cache_creation_input_tokens: 0, cache_read_input_tokens: 600, output_tokens: 0 });
    const delta = events(sse).find(([name]) => name === 'message_delta')!;
    assert.equal((delta[1].usage as { output_tokens: number }).output_tokens, 5);
  });

  it('a tool call whose name comes after its first fragment opens its block then, with the earlier arguments', async () => {
    const sse = run([
      chunkText({ tool_calls: [{ index: 0, id: 'call_1', function: { arguments: '{"a"' } }] }),
      chunkText({ tool_calls: [{ index: 0, function: { name: 'mcp__long_1234abcd', arguments: ':1' } }] }),
      chunkText({ tool_calls: [{ index: 0, function: { arguments: '}' } }] }),
      chunkText({}, 'tool_calls'),
    ]);
    const message = await rebuild(sse);
    assert.deepEqual(message.content, [{ type: 'tool_use', id: 'call_1', name: 'mcp.long.name', input: { a: 1 } }]);
    assert.equal(message.stop_reason, 'tool_use');
  });

  it('parallel tool calls each get a block; a no-argument call has input {}', async () => {
    const sse = run([
      chunkText({ tool_calls: [{ index: 0, id: 'a', function: { name: 'one', arguments: '' } }] }),
      chunkText({ tool_calls: [{ index: 1, id: 'b', function: { name: 'two', arguments: '{"x":' } }] }),
      chunkText({ tool_calls: [{ index: 1, function: { arguments: '2}' } }] }),
      chunkText({}, 'tool_calls'),
    ]);
    const message = await rebuild(sse);
    assert.deepEqual(message.content, [
      { type: 'tool_use', id: 'a', name: 'one', input: {} },
      { type: 'tool_use', id: 'b', name: 'two', input: { x: 2 } },
    ]);
  });

  it('thinking_blocks hand back a signature (signature_delta) and redacted thinking (its own block)', async () => {
    const sse = run([
      chunkText({ reasoning_content: 'hmm', thinking_blocks: [{ type: 'thinking', thinking: 'hmm' }] }),
      chunkText({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig==' }] }),
      chunkText({ thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque' }] }),
      chunkText({ content: 'ok' }),
      chunkText({}, 'stop'),
    ]);
    assert.ok(events(sse).some(([, d]) => (d.delta as { type?: string } | undefined)?.type === 'signature_delta'));
    const message = await rebuild(sse);
    assert.deepEqual(message.content, [
      { type: 'thinking', thinking: 'hmm', signature: 'sig==' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'ok' },
    ]);
  });

  it('a refusal is text with stop_reason refusal; a finish by length is max_tokens', async () => {
    assert.equal((await rebuild(run([chunkText({ refusal: 'I cannot.' }), chunkText({}, 'stop')]))).stop_reason, 'refusal');
    assert.equal((await rebuild(run([chunkText({ content: 'cut' }), chunkText({}, 'length')]))).stop_reason, 'max_tokens');
  });

  it('an upstream error chunk becomes an error event (api_error) and ends the stream', async () => {
    const stream = messagesApi.createStream(STATE);
    const sse = stream.push(chunkText({ content: 'a' })) + stream.push('{"error":{"message":"CUDA out of memory","type":"server_error"}}');
    assert.equal(stream.ended, true);
    assert.equal(stream.push(chunkText({ content: 'b' })), '');
    assert.equal(stream.end(), '');
    assert.equal(stream.heartbeat(), '');
    await assert.rejects(rebuild(sse), (err: unknown) => err instanceof Anthropic.APIError && /CUDA out of memory/.test(err.message));
  });

  it('heartbeat is a ping the client skips, anywhere in the stream', async () => {
    const stream = messagesApi.createStream(STATE);
    const sse = stream.heartbeat() + stream.start() + stream.heartbeat() + stream.push(chunkText({ content: 'hi' })) + stream.heartbeat() + stream.end();
    assert.equal(events(sse).filter(([name]) => name === 'ping').length, 3);
    assert.deepEqual((await rebuild(sse)).content, [{ type: 'text', text: 'hi' }]);
  });

  it('arguments that end up not being a JSON object turn the end of the stream into an error event', async () => {
    const sse = run([chunkText({ tool_calls: [{ index: 0, id: 'a', function: { name: 'one', arguments: '"just a string"' } }] }), chunkText({}, 'tool_calls')]);
    assert.equal(events(sse).at(-1)![0], 'error');
    await assert.rejects(rebuild(sse), (err: unknown) => err instanceof Anthropic.APIError && /not a JSON object/.test(err.message));
  });

  it('legacy function_call deltas are a tool call too', async () => {
    const message = await rebuild(run([chunkText({ function_call: { name: 'one', arguments: '{"k":"v"}' } }), chunkText({}, 'function_call')]));
    assert.equal(message.content[0]!.type, 'tool_use');
    assert.deepEqual((message.content[0] as Anthropic.ToolUseBlock).input, { k: 'v' });
  });

  it('native mode refuses an answer that is not a Messages object with a 502 naming what was expected', () => {
    assert.throws(() => messagesApi.finalToStream('{"choices":[]}', 4), (err: unknown) => err instanceof BadResponseError && err.index === 4 && /not a Messages message object \(its "content" must be an array/.test(err.message));
    assert.throws(() => messagesApi.finalToStream('nope'), BadResponseError);
  });
});
