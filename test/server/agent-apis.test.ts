import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ModelClient } from '../../src/client/model-client.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { chatCompletion } from '../helpers/chat-completion.js';

/** A runtime that answers each translated request with the next scripted chat completion, and keeps what it saw. */
class ChatRuntime {
  readonly seen: any[] = [];
  readonly #client: ModelClient;
  #index = 0;
  #running: Promise<void> | undefined;

  constructor(logFile: string, answers: object[]) {
    const client = (this.#client = new ModelClient({ logFile }));
    this.#running = (async () => {
      let request = await client.antiCallLlm(0, undefined, { timeoutMs: 20_000 });
      for (const answer of answers) {
        this.seen.push(JSON.parse(request));
        this.#index++;
        if (this.#index === answers.length) {
          await client.pushResponse(this.#index, JSON.stringify(answer));
          break;
        }
        request = await client.antiCallLlm(this.#index, JSON.stringify(answer), { timeoutMs: 20_000 });
      }
    })();
  }

  async done(): Promise<void> {
    try {
      await this.#running;
    } finally {
      this.#client.close();
    }
  }
}

const toolCall = (id: string, name: string, args: string) => ({ id, type: 'function', function: { name, arguments: args } });
const WEATHER = { name: 'get_weather', description: 'weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

describe('server: agent APIs in local mode, the runtime on Chat Completions', () => {
  let svc: TestService;
  afterEach(async () => svc?.close());

  it('serves Messages plain and streamed (thinking, a tool use with a 19-digit integer), with the endpoint in the meta and both sides in the trajectory', async () => {
    svc = await startTestService({ trajectoryAppend: true });
    const runtime = new ChatRuntime(svc.logFile, [
      chatCompletion({ content: 'hello messages' }),
      chatCompletion({ content: 'Let me check.', reasoning_content: 'weather needs a tool', tool_calls: [toolCall('call_1', 'get_weather', '{"city":"Paris","id":12345678901234567890}')] }, 'tool_calls'),
    ]);
    const anthropic = new Anthropic({ baseURL: svc.url, apiKey: 'none', maxRetries: 0 });
    const plain = await anthropic.messages.create({ model: 'claude-x', max_tokens: 64, system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plain.content[0]?.type, 'text');
    assert.equal((plain.content[0] as { text: string }).text, 'hello messages');
    assert.equal(plain.stop_reason, 'end_turn');
    assert.deepEqual([plain.usage.input_tokens, plain.usage.output_tokens], [11, 7]);

    const streamed = await anthropic.messages
      .stream({ model: 'claude-x', max_tokens: 64, thinking: { type: 'enabled', budget_tokens: 1024 }, tools: [WEATHER], messages: [{ role: 'user', content: 'weather?' }] })
      .finalMessage();
    const thinking = streamed.content.find((b) => b.type === 'thinking') as { thinking: string } | undefined;
    const use = streamed.content.find((b) => b.type === 'tool_use') as { id: string; name: string; input: Record<string, unknown> } | undefined;
    assert.equal(thinking?.thinking, 'weather needs a tool');
    assert.equal(use?.id, 'call_1');
    assert.equal(use?.name, 'get_weather');
    assert.equal(use?.input.city, 'Paris');
    assert.equal(streamed.stop_reason, 'tool_use');
    await runtime.done();

    assert.equal(runtime.seen[0].messages[0].role, 'system');
    assert.equal(runtime.seen[0].messages[0].content, 'be brief');
    assert.equal(runtime.seen[1].tools[0].function.name, 'get_weather');
    assert.deepEqual(runtime.seen[1].tools[0].function.parameters, WEATHER.input_schema);

    const requests = svc.lines().filter((l) => l.kind === 'request');
    assert.deepEqual(requests.map((l) => JSON.parse(l.raw.slice(l.raw.lastIndexOf('LLM_REQUEST_END') + 15)).endpoint), ['/v1/messages', '/v1/messages']);
    await svc.server.close();
    const records = readFileSync(svc.server.config.trajectoryFile, 'utf8').trim().split('\n');
    assert.equal(records.length, 2);
    assert.match(records[1]!, /"id":12345678901234567890/, 'the 19-digit integer survives into the record');
    const record = JSON.parse(records[1]!);
    assert.equal(record.endpoint, '/v1/messages');
    assert.ok(Array.isArray(record.request.messages), 'request is what the runtime saw (Chat Completions)');
    assert.equal(record.agent_request.model, 'claude-x');
    assert.equal(record.agent_response.type, 'message');
  });

  it('serves Responses plain and streamed with a function call, and expands a previous_response_id chain', async () => {
    svc = await startTestService();
    const runtime = new ChatRuntime(svc.logFile, [
      chatCompletion({ content: 'hello responses' }),
      chatCompletion({ content: null, tool_calls: [toolCall('call_w', 'get_weather', '{"city":"Paris"}')] }, 'tool_calls'),
      chatCompletion({ content: 'It is sunny.' }),
    ]);
    const openai = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'none', maxRetries: 0 });
    const first = await openai.responses.create({ model: 'gpt-x', instructions: 'be brief', input: 'hi' });
    assert.equal(first.output_text, 'hello responses');
    const stream = openai.responses.stream({
      model: 'gpt-x',
      previous_response_id: first.id,
      input: [{ role: 'developer', content: 'use tools' }, { role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', name: 'get_weather', parameters: WEATHER.input_schema, strict: false }, { type: 'web_search' }],
    });
    const second = await stream.finalResponse();
    const call = second.output.find((o) => o.type === 'function_call') as { call_id: string; name: string; arguments: string } | undefined;
    assert.equal(call?.name, 'get_weather');
    assert.equal(JSON.parse(call!.arguments).city, 'Paris');
    const third = await openai.responses.create({
      model: 'gpt-x',
      previous_response_id: second.id,
      input: [{ type: 'function_call_output', call_id: call!.call_id, output: 'sunny' }],
    });
    assert.equal(third.output_text, 'It is sunny.');
    await runtime.done();

    const [r1, r2, r3] = runtime.seen;
    assert.deepEqual(r1.messages.map((m: { role: string }) => m.role), ['system', 'user']);
    // The chain: instructions are not inherited, the earlier turns are.
    assert.ok(JSON.stringify(r2.messages).includes('hello responses'), 'turn 1 is part of turn 2');
    assert.equal(r2.tools.length, 1, 'web_search is left out, never a 400');
    assert.ok(r3.messages.some((m: { role: string; tool_call_id?: string }) => m.role === 'tool' && m.tool_call_id === 'call_w'));
    await assert.rejects(openai.responses.create({ model: 'gpt-x', previous_response_id: 'resp_unknown', input: 'x' }), (err: { status?: number }) => err.status === 400);
  });

  it('estimates count_tokens and lists the configured and the session\'s models for both SDKs', async () => {
    svc = await startTestService({ models: ['policy-a'] });
    const anthropic = new Anthropic({ baseURL: svc.url, apiKey: 'none', maxRetries: 0 });
    const openai = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'none', maxRetries: 0 });
    const counted = await anthropic.messages.countTokens({ model: 'claude-x', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    assert.equal(counted.input_tokens, 100);
    const runtime = new ChatRuntime(svc.logFile, [chatCompletion({ content: 'ok' })]);
    await anthropic.messages.create({ model: 'claude-seen', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    await runtime.done();
    const viaOpenAi = [];
    for await (const model of openai.models.list()) viaOpenAi.push(model.id);
    assert.deepEqual(viaOpenAi, ['policy-a', 'claude-seen']);
    const viaAnthropic = [];
    for await (const model of anthropic.models.list()) viaAnthropic.push(model.id);
    assert.deepEqual(viaAnthropic, ['policy-a', 'claude-seen']);
    assert.equal((await openai.models.retrieve('anything')).id, 'anything');
    assert.equal(svc.lines().length, 2, 'count_tokens and models write nothing to the log');
  });

  it('answers Messages errors in Anthropic\'s shape with a request-id, in the stream once the headers went out', async () => {
    svc = await startTestService({ heartbeatIntervalMs: 20 });
    const bad = await fetch(`${svc.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}' });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('request-id') ?? '', /^req_/);
    assert.equal(bad.headers.get('x-should-retry'), 'false');
    const body = (await bad.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');

    const anthropic = new Anthropic({ baseURL: svc.url, apiKey: 'none', maxRetries: 0 });
    const pending = anthropic.messages.stream({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    await svc.request(1);
    await new Promise((r) => setTimeout(r, 80));
    svc.respond(1, JSON.stringify(chatCompletion({ content: null, tool_calls: [toolCall('c', 'f', '[1,2]')] }, 'tool_calls')));
    await assert.rejects(pending, (err: Error) => /RMS_BAD_RESPONSE/.test(err.message));
  });

  it('hands the runtime the agent\'s own request in native mode and streams its final object', async () => {
    svc = await startTestService({ agentApiMode: 'native' });
    const message = { id: 'msg_native', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'native answer' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 2 } };
    const runtime = new ChatRuntime(svc.logFile, [message, message]);
    const anthropic = new Anthropic({ baseURL: svc.url, apiKey: 'none', maxRetries: 0 });
    const plain = await anthropic.messages.create({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(plain.content, message.content);
    const streamed = await anthropic.messages.stream({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'again' }] }).finalMessage();
    assert.equal((streamed.content[0] as { text: string }).text, 'native answer');
    await runtime.done();
    assert.equal(runtime.seen[0].max_tokens, 8, 'the runtime saw the Messages request itself');
    assert.deepEqual(runtime.seen[0].messages, [{ role: 'user', content: 'hi' }]);
  });

  it('writes request lines the reference\'s own reader still reads (it ignores the endpoint key)', async () => {
    svc = await startTestService();
    const runtime = new ChatRuntime(svc.logFile, [chatCompletion({ content: 'ok' })]);
    const anthropic = new Anthropic({ baseURL: svc.url, apiKey: 'none', maxRetries: 0 });
    await anthropic.messages.create({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'SESSION_END is just a word' }] });
    await runtime.done();
    // ROCK's Python client: split on the markers, json.loads the meta, meta.get("index"), and the session-end substring test.
    const python = [
      'import json, sys',
      'line = open(sys.argv[1], encoding="utf-8").readline()',
      'assert "SESSION_END" not in line',
      'meta = json.loads(line.split("LLM_REQUEST_END")[1])',
      'request = json.loads(line.split("LLM_REQUEST_END")[0].split("LLM_REQUEST_START")[1])',
      'print(meta.get("index"), request["messages"][-1]["content"])',
    ].join('\n');
    const run = spawnSync('python3', ['-c', python, svc.logFile], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), '1 SESSION_END is just a word');
  });
});
