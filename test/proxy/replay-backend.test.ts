import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPLETION, post, startProxy, type TestProxy } from './fixtures.js';

describe('proxy replay', () => {
  let dir: string;
  let file: string;
  let replay: TestProxy | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rms-replay-'));
    file = join(dir, 'recording.jsonl');
  });
  afterEach(async () => {
    await replay?.close();
    replay = undefined;
    await rm(dir, { recursive: true, force: true });
  });

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
