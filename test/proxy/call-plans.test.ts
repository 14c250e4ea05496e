import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { countTokensBody } from '../../src/wire/token-estimate.js';
import { messageToEvents } from '../../src/wire/messages-stream.js';
import { responseToEvents } from '../../src/wire/responses-stream.js';
import { ScriptedUpstream, json, postTo, recordsOnce, sse, startProxy, type TestProxy } from './fixtures.js';
import { chatCompletion } from '../helpers/chat-completion.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const MESSAGE = {
  id: 'msg_up',
  type: 'message',
  role: 'assistant',
  model: 'claude-up',
  content: [
    { type: 'thinking', thinking: 'plan', signature: 'c2ln' },
    { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls', n: 12345678901234567890 } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 3 },
};
const MESSAGE_TEXT = JSON.stringify(MESSAGE).replace('12345678901234567000', '12345678901234567890');
const RESPONSE = {
  id: 'resp_up',
  object: 'response',
  created_at: 1,
  status: 'completed',
  model: 'gpt-up',
  output: [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'from upstream', annotations: [] }] }],
  usage: { input_tokens: 4, output_tokens: 2, total_tokens: 6 },
};

/** An upstream that speaks Messages and Responses itself (as Anthropic's and OpenAI's do), and Chat Completions for the rest. */
function nativeUpstream(): Promise<ScriptedUpstream> {
  return ScriptedUpstream.start((call, res) => {
    const body = JSON.parse(call.body.toString()) as { stream?: boolean };
    const path = call.url.split('?')[0];
    if (path === '/v1/messages/count_tokens') return json(res, 200, { input_tokens: 4242 });
    if (path === '/v1/messages') return body.stream ? sse(res, [messageToEvents(MESSAGE_TEXT)]) : json(res, 200, MESSAGE_TEXT, { 'request-id': 'req_upstream' });
    if (path === '/v1/responses') return body.stream ? sse(res, [responseToEvents(JSON.stringify(RESPONSE))]) : json(res, 200, RESPONSE);
    json(res, 200, chatCompletion({ content: 'translated' }));
  });
}

describe('proxy mode: agent APIs passed through to an upstream that speaks them', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy | undefined;

  closeAfterEach(() => [proxy, upstream]);

  it('forwards a Messages call unchanged, query string and Anthropic headers included, and streams the answer through untouched', async () => {
    upstream = await nativeUpstream();
    proxy = await startProxy({ proxyRules: { default: { url: upstream.baseUrl, apis: ['messages'] } } });
    const body = '{"model":"claude-up", "max_tokens":64000,"stream":true,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"ls"}]}';
    const headers = { 'x-api-key': 'sk-ant-1', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219', 'x-claude-code-session-id': 's-1' };
    const res = await postTo(proxy, '/v1/messages?beta=true', body, headers);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(await res.text(), messageToEvents(MESSAGE_TEXT), 'the bytes as the upstream sent them');
    const [call] = upstream.calls;
    assert.equal(call!.url, '/v1/messages?beta=true');
    assert.equal(call!.body.toString(), body);
    for (const [name, value] of Object.entries(headers)) assert.equal(call!.headers[name], value, name);
    assert.equal(call!.headers.authorization, undefined, 'nothing added: the upstream reads x-api-key itself');

    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.endpoint, '/v1/messages');
    assert.deepEqual(record!.request, JSON.parse(body));
    assert.equal(record!.agent_request, undefined, 'passed through: request and response are in the agent API');
    assert.deepEqual(record!.response, JSON.parse(MESSAGE_TEXT));
    assert.equal(record!.status, 'success');
    assert.match(await proxy.metrics(), /rock_model_service_proxy_tokens_total\{kind="prompt",model="claude-up"\} 23/);
  });

  it('serves the SDKs from a pass-through upstream, plain and streamed, for Messages and Responses', async () => {
    upstream = await nativeUpstream();
    proxy = await startProxy({ proxyRules: { 'claude-up': { url: upstream.baseUrl, apis: ['messages'] }, 'gpt-up': { url: upstream.baseUrl, apis: ['responses', 'chat'] } } });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    const request = { model: 'claude-up', max_tokens: 64, messages: [{ role: 'user' as const, content: 'ls' }] };
    const plain = await anthropic.messages.create(request).withResponse();
    assert.equal(plain.response.headers.get('request-id'), 'req_upstream', "the upstream's own request id");
    assert.equal(plain.data.id, 'msg_up');
    const streamed = await anthropic.messages.stream(request).finalMessage();
    assert.deepEqual(streamed.content, plain.data.content);
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'k', maxRetries: 0 });
    assert.equal((await openai.responses.create({ model: 'gpt-up', input: 'hi' })).output_text, 'from upstream');
    assert.equal((await openai.responses.stream({ model: 'gpt-up', input: 'hi' }).finalResponse()).id, 'resp_up');
    // A Responses call for the Messages-only rule is translated to its Chat Completions.
    assert.equal((await openai.responses.create({ model: 'claude-up', input: 'hi' })).output_text, 'translated');
    assert.deepEqual(
      upstream.calls.map((c) => c.url),
      ['/v1/messages', '/v1/messages', '/v1/responses', '/v1/responses', '/v1/chat/completions'],
    );
    const records = await recordsOnce(proxy, 5);
    assert.deepEqual(records[3]!.response, RESPONSE);
  });

  it("answers count_tokens with the upstream's count when its rule passes Messages through, else with the estimate; neither is recorded", async () => {
    upstream = await nativeUpstream();
    proxy = await startProxy({ proxyRules: { 'claude-up': { url: upstream.baseUrl, apis: ['messages'] }, default: upstream.baseUrl } });
    const body = { model: 'claude-up', messages: [{ role: 'user', content: 'count me' }] };
    const counted = await postTo(proxy, '/v1/messages/count_tokens?beta=true', body, { 'x-api-key': 'k' });
    assert.deepEqual(await counted.json(), { input_tokens: 4242 });
    assert.equal(upstream.calls[0]!.url, '/v1/messages/count_tokens?beta=true');
    const estimated = await postTo(proxy, '/v1/messages/count_tokens', { ...body, model: 'other' });
    assert.deepEqual(await estimated.json(), JSON.parse(countTokensBody(JSON.stringify({ ...body, model: 'other' }))));
    assert.equal(upstream.calls.length, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await proxy.records(), []);
    const bad = await postTo(proxy, '/v1/messages/count_tokens', 'nope');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { type: string }).type, 'error');
  });

  it('estimates count_tokens without any upstream when no rule passes Messages through', async () => {
    proxy = await startProxy({ proxyBaseUrl: 'http://127.0.0.1:9/v1' });
    const body = { model: 'm', system: 'x'.repeat(400), messages: [{ role: 'user', content: 'y'.repeat(400) }] };
    const res = await postTo(proxy, '/v1/messages/count_tokens', body);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { input_tokens: 200 });
    assert.match(res.headers.get('request-id') ?? '', /^req_/);
  });

  it('bounds a pass-through stream\'s record by record_max_bytes, and records an error event as a failure', async () => {
    const long = { ...JSON.parse(MESSAGE_TEXT), content: [{ type: 'text', text: 'z'.repeat(200_000) }], stop_reason: 'end_turn' };
    upstream = await ScriptedUpstream.start((call, res) => {
      if (JSON.parse(call.body.toString()).model === 'broken') {
        return sse(res, [messageToEvents(MESSAGE_TEXT).split('event: content_block_start')[0]!, 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n']);
      }
      const events = messageToEvents(JSON.stringify(long));
      // The text as many small deltas, as a model streams it.
      sse(res, events.replace(/event: content_block_delta\ndata: .*\n\n/, () => Array.from({ length: 400 }, () => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${'z'.repeat(500)}"}}\n\n`).join('')).match(/[^]*?\n\n/g)!);
    });
    proxy = await startProxy({ proxyRules: { default: { url: upstream.baseUrl, apis: ['messages'] } }, recordMaxBytes: 16 * 1024 });
    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
    const message = await anthropic.messages.stream({ model: 'long', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.equal((message.content[0] as { text: string }).text.length, 200_000);
    await assert.rejects(anthropic.messages.stream({ model: 'broken', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(), /Overloaded/);
    const [longRecord, brokenRecord] = await recordsOnce(proxy, 2);
    assert.equal((longRecord!.truncated as { limit_bytes: number }).limit_bytes, 16 * 1024);
    const recorded = longRecord!.response as { content: { text: string }[]; stop_reason: string };
    assert.ok(recorded.content[0]!.text.length < 16 * 1024);
    assert.equal(recorded.stop_reason, 'end_turn');
    assert.equal(brokenRecord!.status, 'failure');
    assert.equal(brokenRecord!.status_code, 200);
    assert.match(brokenRecord!.error as string, /error event: Overloaded/);
  });

  describe('GET /v1/models', () => {
    it('lists the rules but default, the configured models and every model a call asked for, for both SDKs', async () => {
      proxy = await startProxy({ proxyRules: { 'gpt-4o': 'http://127.0.0.1:9/v1', 'claude-up': { url: 'http://127.0.0.1:9/v1', apis: ['messages'] } }, models: ['policy-7b'], retry: { maxAttempts: 1 } });
      await postTo(proxy, '/v1/messages', { model: 'asked-for', max_tokens: 1, messages: [] });
      await postTo(proxy, '/v1/chat/completions', { model: 'gpt-4o', messages: [] });
      const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'k', maxRetries: 0 });
      const ids: string[] = [];
      for await (const model of openai.models.list()) ids.push(model.id);
      assert.deepEqual(ids, ['gpt-4o', 'claude-up', 'policy-7b', 'asked-for']);
      const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'k', maxRetries: 0 });
      const listed = await anthropic.models.list();
      assert.deepEqual(
        listed.data.map((m) => m.id),
        ids,
      );
      assert.equal((await anthropic.models.retrieve('claude-up')).id, 'claude-up');
      await assert.rejects(openai.models.retrieve('nowhere'), (err: InstanceType<typeof OpenAI.APIError>) => err.status === 404 && /no model "nowhere"/.test(err.message));
    });

    it('with proxy_base_url lists no rule (the base takes every call), and retrieves any model: each one is routed', async () => {
      proxy = await startProxy({ proxyBaseUrl: 'http://127.0.0.1:9/v1', proxyRules: { 'gpt-4o': 'http://127.0.0.1:9/v1' } });
      assert.deepEqual(((await (await fetch(`${proxy.url}/v1/models`)).json()) as { data: unknown[] }).data, []);
      const res = await fetch(`${proxy.url}/v1/models/some%2Fmodel`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { id: string }).id, 'some/model');
    });
  });
});
