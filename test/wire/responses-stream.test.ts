import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createAgentApis } from '../../src/wire/agent-apis.js';
import { ResponsesStore } from '../../src/wire/responses-store.js';

import { BadResponseError } from '../../src/errors.js';
import { chunkText } from '../helpers/chat-completion.js';

/** The [type, data] of each event of an SSE text. */
function events(sse: string): [string, Record<string, unknown>][] {
  return sse
    .split('\n\n')
    .filter((e) => e !== '' && !e.startsWith(':'))
    .map((e) => {
      const [name, data] = e.split('\n');
      return [name!.slice('event: '.length), JSON.parse(data!.slice('data: '.length))];
    });
}

function client(sse: string): OpenAI {
  return new OpenAI({ apiKey: 'x', maxRetries: 0, fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }) });
}

describe('wire: Responses event stream', () => {
  const setup = (request: object = { model: 'policy', input: 'x', stream: true }) => {
    const store = new ResponsesStore();
    const api = createAgentApis({ responsesStore: store }).responses;
    const { state } = api.toChat(JSON.stringify(request));
    return { api, state, store, stream: api.createStream(state) };
  };

  it('opens with response.created and response.in_progress (sequence 0 and 1); a heartbeat before that is a comment, after it a repeated in_progress', () => {
    const { stream } = setup();
    assert.equal(stream.heartbeat(), ': keep-alive\n\n');
    const opened = events(stream.start());
    assert.deepEqual(opened.map(([t, d]) => [t, d.sequence_number]), [
      ['response.created', 0],
      ['response.in_progress', 1],
    ]);
    assert.equal((opened[0]![1].response as { status: string }).status, 'in_progress');
    assert.equal(stream.start(), '');
    const beat = events(stream.heartbeat());
    assert.deepEqual(beat.map(([t, d]) => [t, d.sequence_number]), [['response.in_progress', 2]]);
  });

  it('fail sends error (which the client throws, with the code) then response.failed (which Codex reads)', async () => {
    const { stream } = setup();
    const sse = stream.start() + stream.push(chunkText({ content: 'partial' })) + stream.fail(504, 'RMS_TIMEOUT', 'the runtime did not answer in time');
    const tail = events(sse).slice(-2);
    assert.deepEqual(tail.map(([t]) => t), ['error', 'response.failed']);
    const failed = tail[1]![1].response as { status: string; error: { code: string; message: string } };
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { code: 'RMS_TIMEOUT', message: 'the runtime did not answer in time' });
    assert.equal(stream.ended, true);
    assert.equal(stream.end(), '');
    await assert.rejects(client(sse).responses.stream({ model: 'm', input: 'x' }).finalResponse(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.code, 'RMS_TIMEOUT');
      assert.match(err.message, /did not answer in time/);
      return true;
    });
  });

  it('the stream error of a call without a translator is as readable', async () => {
    const { api } = setup();
    await assert.rejects(client(api.streamError(500, 'RMS_SESSION_ENDED', 'the session has ended')).responses.stream({ model: 'm', input: 'x' }).finalResponse(), /the session has ended/);
  });

  it('an upstream error chunk fails the stream', () => {
    const { stream } = setup();
    const sse = stream.push('{"error":{"message":"overloaded"}}');
    assert.deepEqual(events(sse).slice(-2).map(([t]) => t), ['error', 'response.failed']);
    assert.match(sse, /overloaded/);
  });

  it('a refusal is a refusal part of the message; a signature becomes the reasoning item encrypted_content', async () => {
    const { stream } = setup({ model: 'policy', input: 'x', stream: true, include: ['reasoning.encrypted_content'] });
    const sse =
      stream.start() +
      stream.push(chunkText({ reasoning_content: 'hm' })) +
      stream.push(chunkText({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'enc-1' }] })) +
      stream.push(chunkText({ refusal: 'No.' })) +
      stream.push(chunkText({}, 'stop')) +
      stream.end();
    const response = await client(sse).responses.stream({ model: 'm', input: 'x' }).finalResponse();
    assert.deepEqual(response.output.map((o) => o.type), ['reasoning', 'message']);
    assert.equal((response.output[0] as OpenAI.Responses.ResponseReasoningItem).encrypted_content, 'enc-1');
    const message = response.output[1] as OpenAI.Responses.ResponseOutputMessage;
    assert.deepEqual(message.content.map((c) => ({ ...c, parsed: undefined })), [{ type: 'refusal', refusal: 'No.', parsed: undefined }]);
  });

  it('a freeform (custom) tool call streams as custom_tool_call with its raw input', async () => {
    const { stream } = setup({ model: 'policy', input: 'x', stream: true, tools: [{ type: 'custom', name: 'apply_patch', description: 'patch files' }] });
    const sse =
      stream.start() +
      stream.push(chunkText({ tool_calls: [{ index: 0, id: 'call_p', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n' } }] })) +
      stream.push(chunkText({ tool_calls: [{ index: 0, function: { arguments: '*** End Patch"}' } }] })) +
      stream.push(chunkText({}, 'tool_calls')) +
      stream.end();
    assert.ok(events(sse).some(([t]) => t === 'response.custom_tool_call_input.done'));
    const done = events(sse).find(([t, d]) => t === 'response.output_item.done' && (d.item as { type: string }).type === 'custom_tool_call')!;
    assert.deepEqual(done[1].item, { id: (done[1].item as { id: string }).id, type: 'custom_tool_call', status: 'completed', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' });
  });

  it('keeps a streamed response for previous_response_id, and not one with store: false', () => {
    const kept = setup();
    kept.stream.push(chunkText({ content: 'a' }));
    kept.stream.end();
    assert.equal(kept.store.size, 1);
    const notKept = setup({ model: 'policy', input: 'x', stream: true, store: false });
    notKept.stream.end();
    assert.equal(notKept.store.size, 0);
  });

  it('native mode refuses an answer that is not a Responses object with a 502 naming what was expected', () => {
    const { api } = setup();
    assert.throws(() => api.finalToStream('{"choices":[]}', 4), (err: unknown) => err instanceof BadResponseError && /not a Responses response object \(its "output" must be an array/.test(err.message));
  });
});
