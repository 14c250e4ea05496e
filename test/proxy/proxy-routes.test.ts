import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Registry } from 'prom-client';
import { resolveServiceConfig } from '../../src/config/resolve.js';
import { HttpService } from '../../src/http/http-service.js';
import { registerProxyRoutes } from '../../src/proxy/proxy-routes.js';
import { COMPLETION, ScriptedUpstream, chunkEvent, json, recordsOnce, startProxy, type TestProxy } from './fixtures.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const TOOL_STREAM = [
  chunkEvent({ role: 'assistant', content: 'Let me ' }),
  chunkEvent({ content: 'check.', reasoning_content: 'weather needs a tool' }),
  chunkEvent({ tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }),
  chunkEvent({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunkEvent({}, 'tool_calls', { usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } }),
  'data: [DONE]\n\n',
];

/** An upstream that answers like OpenAI: JSON, or the tool-call stream when asked to stream. */
function openAiLike(): Promise<ScriptedUpstream> {
  return ScriptedUpstream.start((call, res) => {
    if (call.headers.authorization !== 'Bearer sk-test') return json(res, 401, { error: { message: 'bad key' } });
    if (!JSON.parse(call.body.toString()).stream) return json(res, 200, COMPLETION);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of TOOL_STREAM) res.write(e);
    res.end();
  });
}

async function collectStream(client: OpenAI) {
  const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'weather?' }] });
  let content = '';
  let args = '';
  let name = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    for (const tc of choice.delta.tool_calls ?? []) {
      name ||= tc.function?.name ?? '';
      args += tc.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return { content, name, args, finish };
}

describe('proxy mode through the official openai client', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy | undefined;
  let replay: TestProxy | undefined;

  closeAfterEach(() => [proxy, replay, upstream]);

  it('gets the upstream answer, plain and streamed, with vendor fields and the API key forwarded', async () => {
    upstream = await openAiLike();
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    const plain = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plain.choices[0]!.message.content, 'hello');
    assert.equal((plain.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content, 'vendor');
    assert.deepEqual((plain as unknown as { vendor_extra: unknown }).vendor_extra, { kept: true });
    assert.deepEqual(await collectStream(client), { content: 'Let me check.', name: 'get_weather', args: '{"city":"Paris"}', finish: 'tool_calls' });
    const records = await recordsOnce(proxy, 2);
    const streamed = records[1]!.response as { choices: { message: Record<string, unknown> }[]; usage: unknown };
    assert.equal(streamed.choices[0]!.message.content, 'Let me check.');
    assert.equal(streamed.choices[0]!.message.reasoning_content, 'weather needs a tool');
    assert.deepEqual(streamed.usage, { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  });

  it('replaying the recording gives the agent the same answers, without any upstream', async () => {
    upstream = await openAiLike();
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const live = new OpenAI({ apiKey: 'sk-test', baseURL: `${proxy.url}/v1`, maxRetries: 0 });
    const livePlain = await live.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const liveStream = await collectStream(live);
    await recordsOnce(proxy, 2);
    await upstream.close();

    replay = await startProxy({ replayFile: proxy.recordingFile });
    const again = new OpenAI({ apiKey: 'anything', baseURL: `${replay.url}/v1`, maxRetries: 0 });
    assert.deepEqual(await again.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }), livePlain);
    assert.deepEqual(await collectStream(again), liveStream);
    await assert.rejects(again.chat.completions.create({ model: 'm', messages: [] }), (err: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(err.status, 404);
      assert.match(err.message, /exhausted: all 2 recorded calls were served/);
      return true;
    });
    assert.deepEqual(await replay.records(), [], 'a replay records nothing');
  });
});

describe('registerProxyRoutes close()', () => {
  it('ends the calls under way with 502 and records them, without waiting for the upstream or pending retries', async () => {
    const upstream = await ScriptedUpstream.start((_call, res, n) => {
      if (n === 1) json(res, 429, { error: { message: 'later' } });
      // the other calls stall
    });
    const dir = makeTempDir('proxy-close');
    const recordingFile = join(dir, 'rec.jsonl');
    const config = resolveServiceConfig(
      { type: 'proxy', dataDir: dir, proxyBaseUrl: upstream.baseUrl, recordingFile, requestTimeoutMs: 60_000, retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } },
      {},
    );
    const log = { info() {}, warn() {}, error() {}, debug() {} };
    const http = new HttpService({ log, bodyLimitBytes: 1 << 20, bodyTimeoutMs: 10_000, bodyBudgetBytes: 1 << 24, observe() {} });
    const proxy = await registerProxyRoutes(http, config, { registry: new Registry(), log });
    try {
      const { port } = await http.listen('127.0.0.1', 0);
      const url = `http://127.0.0.1:${port}/v1/chat/completions`;
      const call = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"m"}' });
      const retrying = call();
      while (upstream.calls.length < 1) await new Promise((r) => setTimeout(r, 5));
      const stalled = call();
      while (upstream.calls.length < 2) await new Promise((r) => setTimeout(r, 5));
      const started = Date.now();
      await proxy.close();
      assert.ok(Date.now() - started < 5000);
      for (const answer of await Promise.all([retrying, stalled])) {
        assert.equal(answer.status, 502);
        assert.match(((await answer.json()) as { error: { message: string } }).error.message, /stopping/);
      }
      const lines = (await readFile(recordingFile, 'utf8')).trim().split('\n');
      assert.equal(lines.length, 2);
      await proxy.close();
    } finally {
      await http.close(0);
      await upstream.close();
      removeDir(dir);
    }
  });
});
