import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { COMPLETION, ScriptedUpstream, chunkEvent, json, recordsOnce, startProxy, type TestProxy } from './fixtures.js';

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

  afterEach(async () => {
    await proxy?.close();
    await replay?.close();
    proxy = replay = undefined;
    await upstream?.close();
  });

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
