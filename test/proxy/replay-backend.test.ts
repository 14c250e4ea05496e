import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { COMPLETION, ScriptedUpstream, chunkEvent, json, post, postTo, recordsOnce, sse, startProxy, type TestProxy } from './fixtures.js';
import { chatCompletion } from '../helpers/chat-completion.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = makeTempDir('replay');
  file = join(dir, 'recording.jsonl');
});
afterEach(async () => {
  removeDir(dir);
});

describe('proxy replay', () => {
  let replay: TestProxy | undefined;

  closeAfterEach(() => [replay]);

  const record = (n: number, extra: object = {}) =>
    JSON.stringify({ model: 'm', stream: false, status: 'success', request: { n }, response: { ...COMPLETION, id: `r${n}` }, error: null, ...extra });

  it('serves the records in order, then 404 in the OpenAI shape', async () => {
    await writeFile(file, `${record(1)}\n\n${record(2)}\n`);
    replay = await startProxy({ replayFile: file });
    assert.equal(((await (await post(replay, { model: 'm' })).json()) as { id: string }).id, 'r1');
    assert.equal(((await (await post(replay, { model: 'm' })).json()) as { id: string }).id, 'r2');
    const res = await post(replay, { model: 'm' });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    assert.equal(body.error.code, 'RMS_REPLAY_EXHAUSTED');
    assert.equal(body.error.type, 'not_found_error');
    assert.match(await replay.metrics(), /rock_model_service_proxy_replayed_total\{result="exhausted"\} 1/);
  });

  it('gives concurrent calls distinct records', async () => {
    await writeFile(file, Array.from({ length: 30 }, (_, n) => record(n)).join('\n'));
    replay = await startProxy({ replayFile: file });
    const answers = await Promise.all(Array.from({ length: 32 }, () => post(replay!, { model: 'm' })));
    const ids = await Promise.all(answers.filter((a) => a.status === 200).map(async (a) => ((await a.json()) as { id: string }).id));
    assert.equal(ids.length, 30);
    assert.equal(new Set(ids).size, 30);
    assert.equal(answers.filter((a) => a.status === 404).length, 2);
  });

  it('streams a record as one chunk event whose delta is the message, tool calls indexed, then [DONE]', async () => {
    const message = { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'c2', type: 'function', function: { name: 'g', arguments: '{"x":1}' } }] };
    const response = { id: 'r', object: 'chat.completion', created: 3, model: 'm', choices: [{ index: 0, message, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } };
    await writeFile(file, JSON.stringify({ model: 'm', response }) + '\n');
    replay = await startProxy({ replayFile: file });
    const res = await post(replay, { model: 'm', stream: true });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    assert.equal(events.length, 2);
    assert.equal(events[1], 'data: [DONE]');
    const chunk = JSON.parse(events[0]!.slice('data: '.length)) as Record<string, unknown>;
    assert.deepEqual(chunk, {
      id: 'r',
      object: 'chat.completion.chunk',
      created: 3,
      model: 'm',
      choices: [{ index: 0, delta: { ...message, tool_calls: message.tool_calls.map((c, index) => ({ index, ...c })) }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
  });

  it('answers a recorded failure with the status the client got then', async () => {
    await writeFile(
      file,
      [
        record(1, { status: 'failure', status_code: 429, response: { error: { message: 'quota' } } }),
        record(2, { status: 'failure', status_code: 504, response: null, error: 'the upstream sent nothing for 120 s' }),
      ].join('\n'),
    );
    replay = await startProxy({ replayFile: file });
    const first = await post(replay, { model: 'm', stream: true });
    assert.equal(first.status, 429);
    assert.deepEqual(await first.json(), { error: { message: 'quota' } });
    const second = await post(replay, { model: 'm' });
    assert.equal(second.status, 504);
    assert.match(((await second.json()) as { error: { message: string } }).error.message, /sent nothing for 120 s/);
  });

  it('warns, and still answers, when the call asks for another model than the recording', async () => {
    await writeFile(file, record(1));
    replay = await startProxy({ replayFile: file });
    const res = await post(replay, { model: 'other' });
    assert.equal(res.status, 200);
    const warning = (await replay.logLines()).find((l) => l.msg === 'replayed call asks for another model than the recording');
    assert.ok(warning, 'a warning is logged');
    assert.equal(warning.level, 40);
    assert.equal(warning.recorded, 'm');
    assert.equal(warning.requested, 'other');
  });

  it('refuses to start on a missing replay file, naming it', async () => {
    const missing = join(dir, 'absent.jsonl');
    await assert.rejects(startProxy({ replayFile: missing }), (err: Error & { code: string }) => {
      assert.equal(err.code, 'RMS_CONFIG');
      assert.ok(err.message.includes(missing));
      return true;
    });
  });

  it('refuses to start on a malformed replay file, naming the line', async () => {
    await writeFile(file, `${record(1)}\n{"response": \n`);
    await assert.rejects(startProxy({ replayFile: file }), /line 2 is not valid JSON/);
    await writeFile(file, `${record(1)}\n${record(2)}\n[1,2]\n`);
    await assert.rejects(startProxy({ replayFile: file }), /line 3 is not a recorded call/);
  });
});

describe('proxy replay of agent API calls', () => {
  let upstream: ScriptedUpstream | undefined;
  let live: TestProxy | undefined;
  let replay: TestProxy | undefined;

  closeAfterEach(() => [live, replay, upstream]);

  const TOOL_STREAM = [
    chunkEvent({ role: 'assistant', reasoning_content: 'a tool is needed' }),
    chunkEvent({ content: 'Checking.' }),
    chunkEvent({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }),
    chunkEvent({}, 'tool_calls', { usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }),
    'data: [DONE]\n\n',
  ];
  const TOOL = { name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } };
  const FN = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false };

  /** One agent session: the same calls, live or replayed. */
  async function session(proxy: TestProxy) {
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const ask = { model: 'claude-x', max_tokens: 64, tools: [TOOL], messages: [{ role: 'user' as const, content: 'weather?' }] };
    const messagesPlain = await anthropic.messages.create(ask);
    const messagesStreamed = await anthropic.messages.stream(ask).finalMessage();
    const count = (await (await postTo(proxy, '/v1/messages/count_tokens', { model: 'claude-x', messages: ask.messages })).json()) as object;
    const responsesPlain = await openai.responses.create({ model: 'gpt-x', input: 'weather?', tools: [FN] });
    const responsesStreamed = await openai.responses.stream({ model: 'gpt-x', input: 'weather?', tools: [FN], previous_response_id: responsesPlain.id }).finalResponse();
    const chat = await openai.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
    return { messagesPlain, messagesStreamed, count, responsesPlain, responsesStreamed, chat };
  }

  it('gives each agent its recorded answer again, plain and streamed, in its own API, without any upstream', async () => {
    upstream = await ScriptedUpstream.start((call, res) => {
      if (!JSON.parse(call.body.toString()).stream) return json(res, 200, chatCompletion({ content: 'plain answer', tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] }, 'tool_calls'));
      sse(res, TOOL_STREAM);
    });
    live = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const recorded = await session(live);
    await recordsOnce(live, 5);
    await upstream.close();
    upstream = undefined;

    replay = await startProxy({ replayFile: live.recordingFile });
    const again = await session(replay);
    assert.deepEqual(again.messagesPlain, recorded.messagesPlain);
    assert.deepEqual(again.messagesStreamed.content, recorded.messagesStreamed.content);
    assert.deepEqual([again.messagesStreamed.id, again.messagesStreamed.stop_reason], [recorded.messagesStreamed.id, 'tool_use']);
    assert.deepEqual(again.count, recorded.count, 'count_tokens is estimated, and takes no recorded call');
    assert.deepEqual(again.responsesPlain, recorded.responsesPlain);
    assert.deepEqual(again.responsesStreamed.output, recorded.responsesStreamed.output);
    assert.equal(again.responsesStreamed.id, recorded.responsesStreamed.id);
    assert.deepEqual(again.chat, recorded.chat);
    assert.deepEqual(await replay.records(), [], 'a replay records nothing');
  });

  it('translates a recorded chat completion for an agent call when the record has no answer in its API (a chat-only recording)', async () => {
    const response = chatCompletion({ content: 'Checking.', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }, 'tool_calls');
    await writeFile(file, Array.from({ length: 4 }, () => JSON.stringify({ model: 'm', status: 'success', request: {}, response })).join('\n'));
    replay = await startProxy({ replayFile: file });
    const anthropic = new Anthropic({ baseURL: replay.url, apiKey: 'k', maxRetries: 0 });
    const ask = { model: 'm', max_tokens: 64, tools: [TOOL], messages: [{ role: 'user' as const, content: 'weather?' }] };
    for (const message of [await anthropic.messages.create(ask), await anthropic.messages.stream(ask).finalMessage()]) {
      const use = message.content.find((b) => b.type === 'tool_use') as { id: string; input: unknown };
      assert.deepEqual([use.id, use.input, message.stop_reason], ['call_9', { city: 'Oslo' }, 'tool_use']);
    }
    const openai = new OpenAI({ baseURL: `${replay.url}/v1`, apiKey: 'k', maxRetries: 0 });
    // previous_response_id names a response this replay never made: a replay sends nothing, so it needs no chain.
    for (const answer of [await openai.responses.create({ model: 'm', input: 'hi', tools: [FN], previous_response_id: 'resp_live' }), await openai.responses.stream({ model: 'm', input: 'hi', tools: [FN] }).finalResponse()]) {
      const call = answer.output.find((o) => o.type === 'function_call') as { call_id: string; arguments: string };
      assert.deepEqual([call.call_id, call.arguments], ['call_9', '{"city":"Oslo"}']);
    }
  });

  it('replays a pass-through recording, and the agent error a translated call got, with its status', async () => {
    const message = { id: 'msg_p', type: 'message', role: 'assistant', model: 'c', content: [{ type: 'text', text: 'passed' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
    upstream = await ScriptedUpstream.start((call, res) => {
      if (call.url.startsWith('/v1/messages')) return json(res, 200, message);
      json(res, 400, { object: 'error', message: 'prompt too long' });
    });
    live = await startProxy({ proxyRules: { c: { url: upstream.baseUrl, apis: ['messages'] }, default: upstream.baseUrl } });
    const anthropic = new Anthropic({ baseURL: live.url, apiKey: 'k', maxRetries: 0 });
    const liveMessage = await anthropic.messages.create({ model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    const liveError = await postTo(live, '/v1/messages', { model: 'other', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    const liveErrorBody = await liveError.text();
    await recordsOnce(live, 2);
    replay = await startProxy({ replayFile: live.recordingFile });
    const again = new Anthropic({ baseURL: replay.url, apiKey: 'k', maxRetries: 0 });
    const streamed = await again.messages.stream({ model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.deepEqual([streamed.id, streamed.content, streamed.stop_reason, streamed.usage], [liveMessage.id, liveMessage.content, liveMessage.stop_reason, liveMessage.usage]);
    const error = await postTo(replay, '/v1/messages', { model: 'other', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(error.status, 400);
    assert.equal(await error.text(), liveErrorBody);
  });

  it('answers a recorded too-large failure with RMS_RESPONSE_TOO_LARGE and no retry, on chat and agent routes alike', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, { pad: 'x'.repeat(4096) }));
    live = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 1024 });
    assert.equal((await post(live, { model: 'm', messages: [] })).status, 502);
    assert.equal((await postTo(live, '/v1/messages', { model: 'm', max_tokens: 8, messages: [] })).status, 502);
    await recordsOnce(live, 2);
    replay = await startProxy({ replayFile: live.recordingFile });
    const chat = await post(replay, { model: 'm', messages: [] });
    assert.equal(chat.status, 502);
    assert.equal(chat.headers.get('x-should-retry'), 'false');
    assert.equal(((await chat.json()) as { error: { code: string } }).error.code, 'RMS_RESPONSE_TOO_LARGE');
    const messages = await postTo(replay, '/v1/messages', { model: 'm', max_tokens: 8, messages: [] });
    assert.equal(messages.status, 502);
    assert.match(((await messages.json()) as { error: { message: string } }).error.message, /^RMS_RESPONSE_TOO_LARGE: /);
  });
});
