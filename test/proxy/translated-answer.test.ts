import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  ScriptedUpstream,
  chunkEvent,
  eventually,
  firstBytes,
  flood,
  json,
  leavingPost,
  postTo,
  recordsOnce,
  sse,
  sseData,
  startProxy,
  startProxyProcess,
  usageEvent,
  type ProxyProcess,
  type TestProxy,
  type UpstreamCall,
} from './fixtures.js';
import { chatCompletion } from '../helpers/chat-completion.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const WEATHER = { name: 'get_weather', description: 'weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };
const USAGE = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };

/** The upstream's answer to a thinking, talking, tool-calling turn, as vLLM streams it: reasoning_content, fragmented arguments, usage last. */
const TOOL_TURN = [
  chunkEvent({ role: 'assistant', content: '', reasoning_content: 'weather needs ' }),
  chunkEvent({ reasoning_content: 'a tool' }),
  chunkEvent({ content: 'Let me check.' }),
  chunkEvent({ tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }),
  chunkEvent({ tool_calls: [{ index: 0, function: { arguments: '"Paris","id":12345678901234567890}' } }] }),
  chunkEvent({}, 'tool_calls'),
  usageEvent(USAGE),
  'data: [DONE]\n\n',
];
const TOOL_COMPLETION = chatCompletion(
  { content: 'Let me check.', reasoning_content: 'weather needs a tool', tool_calls: [{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","id":12345678901234567890}' } }] },
  'tool_calls',
  USAGE,
);

/** An upstream that speaks Chat Completions like vLLM: the tool turn, whole or streamed as asked. */
function vllmLike(): Promise<ScriptedUpstream> {
  return ScriptedUpstream.start((call, res) => {
    if (chatOf(call).stream) sse(res, TOOL_TURN);
    else json(res, 200, JSON.stringify(TOOL_COMPLETION).replace('12345678901234567000', '12345678901234567890'));
  });
}

function chatOf(call: UpstreamCall): Record<string, any> {
  return JSON.parse(call.body.toString()) as Record<string, any>;
}

describe('proxy mode: agent APIs translated to an upstream that speaks Chat Completions', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy | undefined;

  closeAfterEach(() => [proxy, upstream]);

  it('serves Messages to the Anthropic SDK, plain and streamed (thinking, tool use, usage), the upstream seeing Chat Completions', async () => {
    upstream = await vllmLike();
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'sk-agent', maxRetries: 0, defaultHeaders: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } });
    const request = { model: 'claude-x', max_tokens: 1024, system: 'be brief', tools: [WEATHER], messages: [{ role: 'user' as const, content: 'weather in Paris?' }] };

    const plain = await anthropic.messages.create(request).withResponse();
    assert.equal(plain.response.headers.get('request-id'), plain.response.headers.get('x-request-id'));
    assert.match(plain.response.headers.get('request-id') ?? '', /^req_/);
    const message = plain.data;
    assert.deepEqual(
      message.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    const use = message.content[2] as { id: string; name: string; input: Record<string, unknown> };
    assert.deepEqual([use.id, use.name, use.input.city], ['call_w', 'get_weather', 'Paris']);
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [9, 4]);

    const stream = anthropic.messages.stream({ ...request, thinking: { type: 'enabled', budget_tokens: 512 } });
    const streamed = await stream.finalMessage();
    assert.deepEqual(
      streamed.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    assert.equal((streamed.content[0] as { thinking: string }).thinking, 'weather needs a tool');
    assert.deepEqual((streamed.content[2] as { input: unknown }).input, use.input);
    assert.equal(streamed.stop_reason, 'tool_use');
    assert.equal(streamed.usage.output_tokens, 4);

    const [first, second] = upstream.calls.map(chatOf);
    assert.equal(upstream.calls[0]!.url, '/v1/chat/completions');
    assert.deepEqual(first!.messages, [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'weather in Paris?' },
    ]);
    assert.deepEqual(first!.tools[0].function.parameters, WEATHER.input_schema);
    assert.equal(first!.max_tokens, 1024);
    assert.equal(first!.stream, undefined);
    assert.deepEqual([second!.stream, second!.stream_options], [true, { include_usage: true }]);
    const headers = upstream.calls[0]!.headers;
    assert.equal(headers.authorization, 'Bearer sk-agent');
    assert.equal(headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(headers['content-length'], String(upstream.calls[0]!.body.length));
  });

  it('serves Responses to the openai SDK, plain and streamed (reasoning, function call), with previous_response_id chains', async () => {
    upstream = await ScriptedUpstream.start((call, res) => {
      if (chatOf(call).stream) return sse(res, TOOL_TURN);
      json(res, 200, chatCompletion({ content: 'first answer' }));
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-oa', maxRetries: 0 });
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const first = await openai.responses.create({ model: 'gpt-x', instructions: 'be brief', input: 'hi' });
    assert.equal(first.output_text, 'first answer');
    assert.equal(first.status, 'completed');

    const events: string[] = [];
    const stream = openai.responses.stream({ model: 'gpt-x', input: 'weather?', previous_response_id: first.id, tools, reasoning: { summary: 'auto' } });
    stream.on('event', (e) => events.push(e.type));
    const final = await stream.finalResponse();
    assert.equal(events[0], 'response.created');
    assert.equal(events.at(-1), 'response.completed');
    assert.ok(events.includes('response.function_call_arguments.delta'));
    const call = final.output.find((o) => o.type === 'function_call') as { name: string; call_id: string; arguments: string };
    assert.deepEqual([call.name, call.call_id, call.arguments], ['get_weather', 'call_w', '{"city":"Paris","id":12345678901234567890}']);
    const reasoning = final.output.find((o) => o.type === 'reasoning') as { summary: { text: string }[] };
    assert.equal(reasoning.summary[0]!.text, 'weather needs a tool');
    assert.equal(final.usage?.total_tokens, 13);
    // The chain: the upstream got the first turn back before the new input.
    assert.deepEqual(
      chatOf(upstream.calls[1]!).messages.map((m: { role: string; content: string }) => [m.role, m.content]),
      [
        ['user', 'hi'],
        ['assistant', 'first answer'],
        ['user', 'weather?'],
      ],
    );
    assert.equal(upstream.calls[1]!.headers.authorization, 'Bearer sk-oa');
  });

  it('sends each agent event as its upstream chunk arrives, before the upstream has finished', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent({ role: 'assistant', content: 'first words' }));
      void held.then(() => res.end(chunkEvent({ content: ', then more' }, 'stop') + 'data: [DONE]\n\n'));
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    for (const [path, body, opening] of [
      ['/v1/messages', { model: 'c', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'go' }] }, /event: message_start[^]*"text":"first words"/],
      ['/v1/responses', { model: 'g', stream: true, input: 'go' }, /event: response.created[^]*"delta":"first words"/],
    ] as const) {
      const res = await postTo(proxy, path, body);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const reader = res.body!.getReader();
      let text = '';
      while (!opening.test(text)) text += Buffer.from((await reader.read()).value!).toString();
      release();
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += Buffer.from(r.value).toString();
      assert.match(text, /then more/);
      assert.match(text, path === '/v1/messages' ? /event: message_stop/ : /event: response.completed/);
    }
  });

  it('answers an upstream error in the agent API\'s shape with its status; a client error is not worth a retry', async () => {
    upstream = await ScriptedUpstream.start((call, res) => {
      const model = chatOf(call).model as string;
      if (model === 'full') return json(res, 400, { object: 'error', message: "This model's maximum context length is 32768 tokens. However, you requested 128000 tokens.", type: 'BadRequestError', code: 400 });
      json(res, 503, { error: { message: 'overloaded' } }, { 'retry-after': '3' });
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    // The SDK refuses a plain call this long unless given its own timeout.
    await assert.rejects(anthropic.messages.create({ model: 'full', max_tokens: 128000, messages: [{ role: 'user', content: 'hi' }] }, { timeout: 30_000 }), (err: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(err.status, 400);
      assert.equal((err.error as { error: { type: string } }).error.type, 'invalid_request_error');
      assert.match(err.message, /RMS_UPSTREAM: the upstream answered 400: This model's maximum context length is 32768 tokens/);
      assert.equal(err.headers?.get('x-should-retry'), 'false');
      assert.match(err.headers?.get('request-id') ?? '', /^req_/);
      return true;
    });
    const busy = await postTo(proxy, '/v1/responses', { model: 'busy', input: 'hi', stream: true });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '3');
    assert.equal(busy.headers.get('x-should-retry'), null);
    assert.deepEqual(await busy.json(), { error: { message: 'the upstream answered 503: overloaded', type: 'server_error', code: 'RMS_UPSTREAM' } });
    const [record400, record503] = await recordsOnce(proxy, 2);
    assert.equal(record400!.status, 'failure');
    assert.equal(record400!.status_code, 400);
    assert.equal((record400!.response as { message: string }).message.slice(0, 20), "This model's maximum");
    assert.equal((record400!.agent_response as { type: string }).type, 'error');
    assert.equal(record503!.status_code, 503);
  });

  it('retries a 429 and a stream that broke before its first byte, like chat, and records one call each', async () => {
    upstream = await ScriptedUpstream.start((call, res, n) => {
      if (n === 1) return json(res, 429, { error: { message: 'slow down' } });
      if (n === 3) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        setTimeout(() => res.destroy(), 20);
        return;
      }
      if (chatOf(call).stream) sse(res, TOOL_TURN);
      else json(res, 200, TOOL_COMPLETION);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    const plain = await anthropic.messages.create({ model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plain.stop_reason, 'tool_use');
    const streamed = await anthropic.messages.stream({ model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.equal(streamed.stop_reason, 'tool_use');
    assert.equal(upstream.calls.length, 4);
    const records = await recordsOnce(proxy, 2);
    assert.deepEqual(
      records.map((r) => [r.status, r.status_code]),
      [
        ['success', 200],
        ['success', 200],
      ],
    );
    assert.match(await proxy.metrics(), /rock_model_service_proxy_retries_total\{reason="429",model="c"\} 1/);
  });

  it("tells a stream that broke after its first byte in the API's own error event, ends it, and records the failure", async () => {
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent({ role: 'assistant', content: 'half an ans' }));
      setTimeout(() => res.destroy(), 30);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const messages = await postTo(proxy, '/v1/messages?beta=true', { model: 'c', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const events = await messages.text();
    assert.match(events, /"text":"half an ans"/);
    assert.match(events, /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"RMS_UPSTREAM: connection to the upstream failed/);
    const responses = await postTo(proxy, '/v1/responses', { model: 'g', stream: true, input: 'hi' });
    const types = sseData(await responses.text()).map((e) => e.type);
    assert.deepEqual(types.slice(-2), ['error', 'response.failed']);
    assert.equal(upstream.calls.length, 2, 'no retry once a byte reached the agent');
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
    assert.equal(record!.status_code, 200);
    assert.match(record!.error as string, /after \d+ bytes of the stream/);
    assert.equal((record!.response as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'half an ans');
    assert.equal(((record!.agent_response as { content: { text: string }[] }).content[0]!).text, 'half an ans');
  });

  it("turns an upstream's in-stream error chunk into the API's error event, and stops reading the upstream", async () => {
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent({ role: 'assistant', content: 'so' }));
      res.write(`data: ${JSON.stringify({ error: { message: 'the engine died', type: 'server_error', code: 500 } })}\n\n`);
      // The upstream keeps the stream open: the proxy must not wait for its end.
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    await assert.rejects(anthropic.messages.stream({ model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(), /the engine died/);
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'k', maxRetries: 0 });
    await assert.rejects(openai.responses.stream({ model: 'g', input: 'hi' }).finalResponse(), /the engine died/);
    const records = await recordsOnce(proxy, 2);
    for (const record of records) {
      assert.equal(record.status, 'failure');
      assert.match(record.error as string, /error event: .*the engine died/);
    }
  });

  it('answers 502 RMS_BAD_RESPONSE in the agent\'s shape when the upstream\'s tool arguments cannot be a tool_use input', async () => {
    const bad = chatCompletion({ content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '["not","an","object"]' } }] }, 'tool_calls');
    upstream = await ScriptedUpstream.start((call, res) => {
      if (!chatOf(call).stream) return json(res, 200, bad);
      sse(res, [chunkEvent({ role: 'assistant', tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '[1]' } }] }, 'tool_calls'), 'data: [DONE]\n\n']);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const plain = await postTo(proxy, '/v1/messages', { model: 'c', max_tokens: 8, tools: [WEATHER], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plain.status, 502);
    const body = (await plain.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.match(body.error.message, /^RMS_BAD_RESPONSE: the upstream's answer cannot become a messages answer: .*not a JSON object/);
    const streamed = await postTo(proxy, '/v1/messages', { model: 'c', max_tokens: 8, stream: true, tools: [WEATHER], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(streamed.status, 200);
    assert.match(await streamed.text(), /event: error\ndata: .*RMS_BAD_RESPONSE/);
    const [plainRecord, streamRecord] = await recordsOnce(proxy, 2);
    assert.deepEqual([plainRecord!.status, plainRecord!.status_code], ['failure', 502]);
    assert.deepEqual([streamRecord!.status, streamRecord!.status_code], ['failure', 200]);
  });

  it('answers 400 in the agent\'s shape, forwarding nothing, to a body its API cannot read, and to a model with no upstream', async () => {
    upstream = await vllmLike();
    proxy = await startProxy({ proxyRules: { only: upstream.baseUrl } });
    const notJson = await postTo(proxy, '/v1/messages', '{"model":', {});
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { type: string }).type, 'error');
    const noMessages = await postTo(proxy, '/v1/messages', { model: 'only', max_tokens: 1 });
    assert.match(((await noMessages.json()) as { error: { message: string } }).error.message, /messages: must be an array/);
    const unrouted = await postTo(proxy, '/v1/responses', { model: 'elsewhere', input: 'hi' });
    assert.equal(unrouted.status, 400);
    assert.match(((await unrouted.json()) as { error: { message: string } }).error.message, /no upstream for model "elsewhere"/);
    const unknownChain = await postTo(proxy, '/v1/responses', { model: 'only', input: 'hi', previous_response_id: 'resp_nope' });
    assert.equal(((await unknownChain.json()) as { error: { code: string } }).error.code, 'RMS_UNKNOWN_RESPONSE');
    assert.equal(upstream.calls.length, 0);
    assert.deepEqual(await proxy.records(), []);
  });

  it('records the pair the upstream saw, and the agent side: endpoint, agent_request, agent_response, dropped', async () => {
    upstream = await vllmLike();
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const agentRequest = { model: 'claude-x', max_tokens: 64, stream: true, tools: [WEATHER, { type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'weather?' }] };
    // Claude Code sends its key as x-api-key: the Chat Completions upstream checks a bearer token.
    await (await postTo(proxy, '/v1/messages?beta=true', agentRequest, { 'x-api-key': 'sk-cc', 'anthropic-version': '2023-06-01' })).text();
    await (await postTo(proxy, '/v1/responses', { model: 'gpt-x', input: 'weather?' }, { 'x-api-key': 'sk-cc', authorization: 'Bearer sk-own' })).text();
    assert.deepEqual(
      upstream.calls.map((c) => [c.url, c.headers.authorization, c.headers['x-api-key'], c.headers['anthropic-version']]),
      [
        ['/v1/chat/completions', 'Bearer sk-cc', 'sk-cc', '2023-06-01'],
        ['/v1/chat/completions', 'Bearer sk-own', 'sk-cc', undefined],
      ],
    );
    const [messages, responses] = await recordsOnce(proxy, 2);
    assert.deepEqual(JSON.parse(upstream.calls[0]!.body.toString()), messages!.request);
    assert.equal((messages!.response as { object: string }).object, 'chat.completion');
    assert.equal((messages!.response as { choices: { message: { reasoning_content: string } }[] }).choices[0]!.message.reasoning_content, 'weather needs a tool');
    assert.equal(messages!.endpoint, '/v1/messages');
    assert.deepEqual(messages!.agent_request, agentRequest);
    assert.deepEqual(messages!.dropped, ['tool:web_search']);
    const agentResponse = messages!.agent_response as { type: string; content: { type: string }[]; stop_reason: string; usage: { output_tokens: number } };
    assert.equal(agentResponse.type, 'message');
    assert.deepEqual(
      agentResponse.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    assert.equal(agentResponse.stop_reason, 'tool_use');
    assert.equal(agentResponse.usage.output_tokens, 4);
    const line = (await readFile(proxy.recordingFile, 'utf8')).split('\n')[0]!;
    assert.equal(line.split('12345678901234567890').length, 3, 'the 19-digit integer is written as sent, in response and agent_response');
    assert.equal(responses!.endpoint, '/v1/responses');
    assert.equal((responses!.agent_response as { object: string; status: string }).object, 'response');
    assert.equal(responses!.dropped, undefined);
    assert.match(await proxy.metrics(), /rock_model_service_proxy_tokens_total\{kind="completion",model="claude-x"\} 4/);
  });

  it('streams to an agent that asked for a stream when the upstream answered in one piece, and answers plainly when only the upstream streamed', async () => {
    upstream = await ScriptedUpstream.start((call, res) => {
      // An upstream that does the opposite of what it is asked.
      if (chatOf(call).stream) json(res, 200, TOOL_COMPLETION);
      else sse(res, [': a comment\n\n', 'data: not json\n\n', ...TOOL_TURN]);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    const ask = { model: 'c', max_tokens: 8, tools: [WEATHER], messages: [{ role: 'user' as const, content: 'hi' }] };
    for (const message of [await anthropic.messages.stream(ask).finalMessage(), await anthropic.messages.create(ask)]) {
      assert.deepEqual(
        message.content.map((b) => b.type),
        ['thinking', 'text', 'tool_use'],
      );
      assert.equal(message.stop_reason, 'tool_use');
    }
    const [streamed, plain] = await recordsOnce(proxy, 2);
    assert.equal(streamed!.status, 'success');
    assert.equal((streamed!.agent_response as { stop_reason: string }).stop_reason, 'tool_use');
    assert.equal((plain!.response as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'Let me check.', 'the chunks folded');
  });

  it('stops the upstream call when the agent leaves mid-stream, and records that', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write(chunkEvent({ content: 'more ' })), 5);
      res.on('close', () => {
        clearInterval(timer);
        closed();
      });
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const req = leavingPost(`${proxy.url}/v1/messages`, { model: 'c', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    await firstBytes(req);
    req.destroy();
    await upstreamClosed;
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status_code, 499);
    assert.match(((record!.agent_response as { content: { text: string }[] }).content[0]!).text, /^(more )+$/);
  });

  describe("the chat path's bounds", () => {
    it('answers 502 RMS_RESPONSE_TOO_LARGE in the agent\'s shape to an endless plain answer, and records its code', async () => {
      upstream = await ScriptedUpstream.start((_call, res) => flood(res, { 'content-type': 'application/json' }, ' '.repeat(16 * 1024)));
      proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 64 * 1024 });
      const res = await postTo(proxy, '/v1/messages', { model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.status, 502);
      assert.equal(res.headers.get('x-should-retry'), 'false');
      const body = (await res.json()) as { type: string; error: { message: string } };
      assert.equal(body.type, 'error');
      assert.match(body.error.message, /^RMS_RESPONSE_TOO_LARGE: .*response_limit/);
      const [record] = await recordsOnce(proxy, 1);
      assert.equal(record!.error_code, 'RMS_RESPONSE_TOO_LARGE');
      assert.equal(record!.agent_response, null);
    });

    it('ends a translated stream whose single event passes response_limit, before any byte: 502 in the agent\'s shape', async () => {
      upstream = await ScriptedUpstream.start((_call, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"index":0,"delta":{"content":"');
        flood(res, {}, 'x'.repeat(16 * 1024));
      });
      proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 64 * 1024 });
      const res = await postTo(proxy, '/v1/responses', { model: 'g', stream: true, input: 'hi' });
      assert.equal(res.status, 502);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RMS_RESPONSE_TOO_LARGE');
    });

    it('ends an endless translated stream at response_limit with the API\'s error event, after passing what came before', async () => {
      upstream = await ScriptedUpstream.start((_call, res) => flood(res, { 'content-type': 'text/event-stream' }, chunkEvent({ content: 'z'.repeat(1000) })));
      proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 256 * 1024 });
      const res = await postTo(proxy, '/v1/messages', { model: 'c', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.length > 128 * 1024);
      assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"RMS_RESPONSE_TOO_LARGE: the upstream's stream passed response_limit \(262144 bytes\)/);
      const [record] = await recordsOnce(proxy, 1);
      assert.equal(record!.status, 'failure');
    });

    it('passes a long translated stream whole to the agent and records at most record_max_bytes of each side', async () => {
      const pieces = 2000;
      upstream = await ScriptedUpstream.start((_call, res) =>
        sse(res, [chunkEvent({ role: 'assistant', content: '' }), ...Array.from({ length: pieces }, () => chunkEvent({ content: 'y'.repeat(500) })), chunkEvent({}, 'stop'), 'data: [DONE]\n\n']),
      );
      proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, recordMaxBytes: 64 * 1024 });
      const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
      const message = await anthropic.messages.stream({ model: 'c', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
      assert.equal((message.content[0] as { text: string }).text.length, pieces * 500);
      assert.equal(message.stop_reason, 'end_turn');
      const [record] = await recordsOnce(proxy, 1);
      const truncated = record!.truncated as { reason: string; limit_bytes: number };
      assert.equal(truncated.limit_bytes, 64 * 1024);
      assert.match(truncated.reason, /record_max_bytes.*; agent_response: .*record_max_bytes/);
      const chatText = (record!.response as { choices: { message: { content: string }; finish_reason: string }[] }).choices[0]!;
      assert.ok(chatText.message.content.length < 64 * 1024);
      assert.equal(chatText.finish_reason, 'stop', 'read past the bound');
      const agent = record!.agent_response as { content: { text: string }[]; stop_reason: string };
      assert.ok(agent.content[0]!.text.length < 64 * 1024);
      assert.equal(agent.stop_reason, 'end_turn', 'read past the bound');
      assert.ok(JSON.stringify(record).length < 4 * 64 * 1024);
    });
  });

  describe('max_tokens_cap', () => {
    it("caps a translated call's max_tokens (Claude Code asks 128000 of any model), and leaves Chat Completions calls byte for byte", async () => {
      upstream = await vllmLike();
      proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, maxTokensCap: 8192 });
      await (await postTo(proxy, '/v1/messages?beta=true', { model: 'c', max_tokens: 128000, messages: [{ role: 'user', content: 'hi' }] })).text();
      await (await postTo(proxy, '/v1/responses', { model: 'g', max_output_tokens: 100, input: 'hi' })).text();
      await (await postTo(proxy, '/v1/responses', { model: 'g', input: 'hi' })).text();
      const chat = '{"model":"m","max_tokens":128000,"messages":[]}';
      await (await postTo(proxy, '/v1/chat/completions', chat)).text();
      assert.deepEqual(
        upstream.calls.slice(0, 3).map((c) => chatOf(c).max_tokens),
        [8192, 100, undefined],
      );
      assert.equal(upstream.calls[3]!.body.toString(), chat);
      const [record] = await recordsOnce(proxy, 1);
      assert.equal((record!.agent_request as { max_tokens: number }).max_tokens, 128000);
    });
  });
});

describe('proxy mode: memory while an endless translated stream passes (the service in its own process)', function () {
  this.timeout(120_000);
  let upstream: ScriptedUpstream;
  let service: ProxyProcess | undefined;

  closeAfterEach(() => [service, upstream]);

  it('holds no more than response_limit of an endless translated stream (Responses repeats its answer at the end), then ends it with an error event', async () => {
    const event = chunkEvent({ content: 'x'.repeat(32 * 1024 - 200) });
    upstream = await ScriptedUpstream.start((_call, res) => flood(res, { 'content-type': 'text/event-stream' }, event));
    const limit = 32 * 1024 * 1024;
    service = await startProxyProcess([`proxy_base_url: ${upstream.baseUrl}`, `response_limit: ${limit}`, `record_max_bytes: ${4 * 1024 * 1024}`]);
    const before = service.rssBytes();
    let peak = before;
    let received = 0;
    let tail = '';
    const streamed = new Promise<void>((resolve, reject) => {
      const req = httpRequest(new URL(`${service!.url}/v1/responses`), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          received += text.length;
          tail = (tail + text).slice(-4096);
        });
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'g', stream: true, input: 'go on' }));
    });
    let done = false;
    void streamed.finally(() => (done = true));
    while (!done) {
      peak = Math.max(peak, service.rssBytes());
      await new Promise((r) => setTimeout(r, 100));
    }
    await streamed;
    assert.ok(received > limit / 2, `${received} characters reached the agent first`);
    assert.match(tail, /event: response\.failed\ndata: .*RMS_RESPONSE_TOO_LARGE/);
    assert.ok(peak - before < 2 * limit + 100 * 1024 * 1024, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MiB for a ${limit >> 20} MiB limit`);
    const [record] = await eventually(async () => ((await service!.records()).length === 1 ? service!.records() : undefined), 10_000);
    assert.equal(record!.status, 'failure');
    assert.match(record!.error as string, /passed response_limit/);
  });
});
