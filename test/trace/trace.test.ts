import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { formatMeta } from '../../src/protocol/lines.js';
import type { TraceEvent, Turn } from '../../src/trace/model.js';
import { PROJECT_ROOT, requireBuiltCli, ROCK_BIN, runCli } from '../helpers/cli.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { json, startProxy, ScriptedUpstream } from '../proxy/fixtures.js';
import { writeAgentSession } from './support/agent-session.js';
import { traceEvents, traceText } from './support/trace-events.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { chatCompletion } from '../helpers/chat-completion.js';

const turnsOf = (events: TraceEvent[]): Turn[] => events.filter((e): e is Turn => e.type === 'turn');
const reqLine = (payload: object | string, index: number, ts: number, endpoint?: string): string => {
  const meta = formatMeta(index, ts, endpoint);
  return `LLM_REQUEST_START${typeof payload === 'string' ? payload : JSON.stringify(payload)}LLM_REQUEST_END${meta}\n`;
};
const resLine = (payload: object | string, index: number, ts: number): string =>
  `LLM_RESPONSE_START${typeof payload === 'string' ? payload : JSON.stringify(payload)}LLM_RESPONSE_END${formatMeta(index, ts)}\n`;
const chatAnswer = (message: object, usage?: object): object => chatCompletion(message, 'stop', usage ?? null);

describe('trace', function () {
  this.timeout(30_000);
  let dir: string;
  before(requireBuiltCli);
  beforeEach(() => {
    dir = makeTempDir('trace');
  });
  afterEach(() => removeDir(dir));

  describe('a session the real service logged', () => {
    let svc: TestService;
    afterEach(async () => svc?.close());

    it('reads as a conversation: only what each request adds, the answers, the runtime time, tokens, SESSION_END', async () => {
      svc = await startTestService({ trajectoryAppend: true, watchIntervalMs: 50 });
      const client = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const history: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'List the files, then say SESSION_END when done.' },
      ];
      const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'bash', parameters: { type: 'object' } } }];
      const first = client.chat.completions.create({ model: 'qwen', messages: history, tools });
      await svc.request(1);
      await new Promise((r) => setTimeout(r, 30));
      svc.respond(
        1,
        JSON.stringify(chatAnswer({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls","id":1234567890123456789}' } }] }, { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 })),
      );
      const answer = await first;
      history.push(answer.choices[0]!.message, { role: 'tool', tool_call_id: 'call_1', content: 'a.txt\nb.txt' });
      const second = client.chat.completions.create({ model: 'qwen', messages: history, tools, stream: true });
      await svc.request(2);
      svc.respond(2, JSON.stringify(chatAnswer({ role: 'assistant', content: 'Two files. SESSION_END' })));
      for await (const chunk of await second) void chunk;
      const agent = spawn(process.execPath, ['-e', '0']);
      await new Promise((r) => agent.on('exit', r));
      await fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', body: JSON.stringify({ pid: agent.pid }), headers: { 'content-type': 'application/json' } });
      for (let i = 0; i < 200 && !readFileSync(svc.logFile, 'utf8').endsWith('SESSION_END\n'); i++) await new Promise((r) => setTimeout(r, 20));

      const events = await traceEvents(svc.logFile);
      assert.deepEqual(
        events.map((e) => e.type),
        ['turn', 'turn', 'session_end'],
      );
      const [t1, t2] = turnsOf(events);
      assert.deepEqual(
        t1!.added.map((m) => [m.role, m.parts[0]!.text]),
        [
          ['system', 'You are terse.'],
          ['user', 'List the files, then say SESSION_END when done.'],
        ],
      );
      assert.deepEqual(t1!.tools, ['bash']);
      assert.equal(t1!.answer!.parts[0]!.type, 'tool_call');
      assert.equal(t1!.answer!.parts[0]!.text, '{\n  "command": "ls",\n  "id": 1234567890123456789\n}', 'arguments indented, the 19-digit number as written');
      assert.deepEqual(t1!.usage, { input: 12, output: 5, total: 17 });
      assert.ok(t1!.latencyMs! >= 30 && t1!.latencyMs! < 5000, `runtime time from the meta timestamps: ${t1!.latencyMs}`);
      assert.equal(t2!.stream, true);
      assert.deepEqual(t2!.context, { messages: 4, kept: 2, dropped: 0, continues: 1, echoed: 1 }, 'the echoed answer is not shown again');
      assert.deepEqual(
        t2!.added.map((m) => [m.role, m.parts[0]!.type, m.parts[0]!.text]),
        [['tool', 'tool_result', 'a.txt\nb.txt']],
      );
      assert.equal(t2!.answer!.parts[0]!.text, 'Two files. SESSION_END', 'marker text inside a message is text, not a session end');

      const cli = await runCli(['model-service', 'trace', svc.logFile]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.doesNotMatch(cli.stdout, /\x1b\[/, 'no colour when piped');
      for (const expected of ['━━ #1', 'system      You are terse.', 'tool call   bash · call_1', '"id": 1234567890123456789', '◀━ #1 answered in', 'tokens 12 in / 5 out', 'continues #1', 'tool result call_1', 'a.txt', 'Two files. SESSION_END', '━━ SESSION_END ━━']) {
        assert.ok(cli.stdout.includes(expected), `missing ${JSON.stringify(expected)} in\n${cli.stdout}`);
      }

      await svc.server.close();
      const fromTrajectory = turnsOf(await traceEvents(svc.server.config.trajectoryFile));
      assert.deepEqual(
        fromTrajectory.map((t) => [t.index, t.added.length, t.answer?.parts[0]?.type]),
        [
          [1, 2, 'tool_call'],
          [2, 1, 'text'],
        ],
        'the trajectory the service wrote reads the same',
      );
    });
  });

  it("reads the reference's format (meta with spaces, non-ASCII unescaped) and says which request has no answer", async () => {
    const events = await traceEvents(join(PROJECT_ROOT, 'test/fixtures/reference-python.log'));
    const turns = turnsOf(events);
    assert.deepEqual(
      turns.map((t) => [t.index, t.status, t.latencyMs, t.added[0]!.parts[0]!.text]),
      [
        [1, 'answered', 100, 'Grüße aus Köln, 你好 🌍'],
        [2, 'unanswered', undefined, 'tab\there "quoted" \\ back'],
      ],
    );
    assert.ok(events.some((e) => e.type === 'session_end'));
  });

  it('names the agent API of each request and renders native Messages and Responses payloads', async () => {
    const log = join(dir, 'LLMService.log');
    const t = 1_764_000_000_000;
    writeFileSync(
      log,
      // translated: a Chat Completions payload that came in on /v1/messages
      reqLine({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }, 1, t, '/v1/messages') +
        resLine(chatAnswer({ role: 'assistant', content: 'hello' }), 1, t + 10) +
        // native Messages
        reqLine(
          JSON.stringify({
            model: 'claude',
            max_tokens: 100,
            system: [{ type: 'text', text: 'Be brief.' }],
            tools: [{ name: 'Read', input_schema: {} }],
            messages: [
              { role: 'user', content: 'hi' },
              { role: 'assistant', content: [{ type: 'thinking', thinking: 'ponder', signature: 's' }, { type: 'tool_use', id: 'tu_1', name: 'Read', input: { path: 'a', n: 'BIG' } }] },
              { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: 'file body' }], is_error: true }] },
            ],
          }).replace('"BIG"', '12345678901234567890'),
          2,
          t + 20,
          '/v1/messages',
        ) +
        resLine({ id: 'msg', type: 'message', role: 'assistant', content: [{ type: 'thinking', thinking: 'long\nthought' }, { type: 'text', text: 'done' }], stop_reason: 'end_turn', usage: { input_tokens: 30, output_tokens: 4, cache_read_input_tokens: 20 } }, 2, t + 50) +
        // native Responses
        reqLine(
          {
            model: 'gpt',
            instructions: 'Be exact.',
            input: [
              { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'run it' }] },
              { type: 'function_call', call_id: 'fc_1', name: 'shell', arguments: '{"cmd":"ls"}' },
              { type: 'function_call_output', call_id: 'fc_1', output: 'x.txt' },
            ],
          },
          3,
          t + 60,
          '/v1/responses',
        ) +
        resLine(
          {
            id: 'resp',
            object: 'response',
            status: 'completed',
            output: [
              { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }] },
              { type: 'function_call', call_id: 'fc_2', name: 'shell', arguments: '{"cmd":"cat x.txt"}' },
            ],
            usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12, output_tokens_details: { reasoning_tokens: 2 } },
          },
          3,
          t + 90,
        ),
    );
    const [chat, messages, responses] = turnsOf(await traceEvents(log));
    assert.deepEqual([chat!.endpoint, chat!.shape], ['/v1/messages', 'chat']);
    assert.deepEqual([messages!.endpoint, messages!.shape, messages!.system, messages!.tools], ['/v1/messages', 'messages', 'Be brief.', ['Read']]);
    assert.deepEqual(messages!.context, { messages: 3, kept: 1, dropped: 0, continues: 1 }, 'the first message is the one request 1 had');
    assert.deepEqual(
      messages!.added.flatMap((m) => m.parts.map((p) => [m.role, p.type, p.name ?? null, p.text, p.error ?? false])),
      [
        ['assistant', 'reasoning', null, 'ponder', false],
        ['assistant', 'tool_call', 'Read', '{\n  "path": "a",\n  "n": 12345678901234567890\n}', false],
        ['user', 'tool_result', null, 'file body', true],
      ],
    );
    assert.deepEqual(messages!.answer, { parts: [{ type: 'reasoning', text: 'long\nthought' }, { type: 'text', text: 'done' }], finish: 'end_turn' });
    assert.deepEqual(messages!.usage, { input: 30, output: 4, cached: 20 });
    assert.deepEqual([responses!.endpoint, responses!.shape, responses!.system], ['/v1/responses', 'responses', 'Be exact.']);
    assert.deepEqual(
      responses!.added.map((m) => [m.role, m.parts[0]!.type, m.parts[0]!.text]),
      [
        ['user', 'text', 'run it'],
        ['assistant', 'tool_call', '{\n  "cmd": "ls"\n}'],
        ['tool', 'tool_result', 'x.txt'],
      ],
    );
    assert.deepEqual(
      responses!.answer!.parts.map((p) => [p.type, p.name ?? null]),
      [
        ['reasoning', null],
        ['tool_call', 'shell'],
      ],
    );
    assert.deepEqual(responses!.usage, { input: 9, output: 3, total: 12, reasoning: 2 });

    const text = await traceText(log);
    assert.match(text, /━━ #2 \/v1\/messages · messages payload · claude/);
    assert.match(text, /reasoning {3}long thought/, 'reasoning folded to one line');
    assert.match(text, /━━ #3 \/v1\/responses · responses payload · gpt/);
    assert.match(text, /tokens 9 in \/ 3 out \(2 reasoning\)/);
  });

  it('reads a trajectory with agent_request / agent_response and the endpoint it names', async () => {
    const traj = join(dir, 'LLMTraj.jsonl');
    writeFileSync(
      traj,
      JSON.stringify({
        request: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
        response: chatAnswer({ role: 'assistant', content: 'yo' }),
        endpoint: '/v1/responses',
        agent_request: { model: 'm', input: 'hi' },
        agent_response: { object: 'response', output: [] },
      }) + '\n',
    );
    const [turn] = turnsOf(await traceEvents(traj));
    assert.deepEqual([turn!.endpoint, turn!.added[0]!.parts[0]!.text, turn!.answer!.parts[0]!.text], ['/v1/responses', 'hi', 'yo']);
  });

  it('reads a proxy recording: latency, HTTP status, and failed calls with their error', async () => {
    const upstream = await ScriptedUpstream.start((_call, res, n) => {
      if (n === 1) json(res, 200, chatAnswer({ role: 'assistant', content: 'from upstream' }, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }));
      else json(res, 400, { error: { message: 'bad model', type: 'invalid_request_error' } });
    });
    const proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    try {
      const post = (body: object) => fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await (await post({ model: 'm', messages: [{ role: 'user', content: 'one' }] })).text();
      await (await post({ model: 'm', messages: [{ role: 'user', content: 'one' }, { role: 'assistant', content: 'from upstream' }, { role: 'user', content: 'two' }] })).text();
      for (let i = 0; i < 100 && (await proxy.records()).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      const [ok, failed] = turnsOf(await traceEvents(proxy.recordingFile));
      assert.deepEqual([ok!.status, ok!.statusCode, ok!.answer!.parts[0]!.text, ok!.usage?.total], ['answered', 200, 'from upstream', 5]);
      assert.equal(typeof ok!.latencyMs, 'number');
      assert.equal(failed!.status, 'failed');
      assert.equal(failed!.statusCode, 400);
      assert.match(failed!.error!, /bad model|400/);
      assert.deepEqual(
        failed!.added.map((m) => m.parts[0]!.text),
        ['two'],
        'the answer echoed into the next call is not shown again',
      );
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it('compares a request with the conversation it continues when side calls interleave', async () => {
    const log = join(dir, 'LLMService.log');
    const main1 = [{ role: 'system', content: 'main' }, { role: 'user', content: 'task' }];
    const side = [{ role: 'system', content: 'write a title' }, { role: 'user', content: 'task' }];
    const main2 = [...main1, { role: 'assistant', content: 'step' }, { role: 'user', content: 'go on' }];
    writeFileSync(
      log,
      reqLine({ messages: main1 }, 1, 1) +
        resLine(chatAnswer({ role: 'assistant', content: 'step' }), 1, 2) +
        reqLine({ messages: side }, 2, 3) +
        resLine(chatAnswer({ role: 'assistant', content: 'Title' }), 2, 4) +
        reqLine({ messages: main2 }, 3, 5) +
        resLine(chatAnswer({ role: 'assistant', content: 'done' }), 3, 6),
    );
    const turns = turnsOf(await traceEvents(log));
    assert.deepEqual(turns[1]!.context, { messages: 2, kept: 0, dropped: 0 });
    assert.deepEqual(turns[2]!.context, { messages: 4, kept: 2, dropped: 0, continues: 1, echoed: 1 });
    assert.deepEqual(
      turns[2]!.added.map((m) => m.parts[0]!.text),
      ['go on'],
    );
  });

  it('shows marker strings inside payloads as text and never ends the session on them', async () => {
    const log = join(dir, 'LLMService.log');
    // As the service writes them: one character escaped inside JSON strings.
    writeFileSync(
      log,
      reqLine('{"messages":[{"role":"user","content":"say SESSION\\u005fEND and LLM\\u005fREQUEST_END{}"}]}', 1, 1) +
        resLine('{"choices":[{"message":{"role":"assistant","content":"SESSION\\u005fEND"}}]}', 1, 2) +
        'SESSION_END\n',
    );
    const events = await traceEvents(log);
    assert.deepEqual(
      events.map((e) => e.type),
      ['turn', 'session_end'],
    );
    const turn = events[0] as Turn;
    assert.equal(turn.added[0]!.parts[0]!.text, 'say SESSION_END and LLM_REQUEST_END{}');
    assert.equal(turn.answer!.parts[0]!.text, 'SESSION_END');
  });

  it('escapes control characters and bidi overrides in text output, keeps them in JSON', async () => {
    const log = join(dir, 'LLMService.log');
    const hostile = 'ok\x1b[2J\x1b]0;pwned\x07 \u202egnp.exe\r<script>alert(1)</script>';
    writeFileSync(log, reqLine({ model: 'm\x1b[31m', messages: [{ role: 'user', content: hostile }] }, 1, 1) + resLine(chatAnswer({ role: 'assistant', content: hostile }), 1, 2));
    const text = await traceText(log, { color: true });
    assert.ok(!text.includes('\x1b[2J') && !text.includes('\x07') && !text.includes('\u202e') && !text.includes('\r'), 'nothing that drives a terminal gets through');
    assert.ok(text.includes('ok\\x1b[2J\\x1b]0;pwned\\x07 \\u202egnp.exe\\x0d<script>'), text);
    assert.ok(text.includes('m\\x1b[31m'), 'the model name too');
    const [turn] = turnsOf(await traceEvents(log));
    assert.equal(turn!.added[0]!.parts[0]!.text, hostile);
  });

  it('colours only when asked: FORCE_COLOR, NO_COLOR, piped', async () => {
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, reqLine({ messages: [{ role: 'user', content: 'hi' }] }, 1, 1));
    const forced = await runCli(['model-service', 'trace', log], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    assert.match(forced.stdout, /\x1b\[1m━━ #1/);
    const off = await runCli(['model-service', 'trace', log], { env: { FORCE_COLOR: '0' } });
    assert.doesNotMatch(off.stdout, /\x1b/);
    assert.match(off.stdout, /◀━ #1 no answer in the log/);
  });

  it('--json prints one object per line as it reads', async () => {
    const log = join(dir, 'LLMService.log');
    writeAgentSession(log, { turns: 5, toolOutputBytes: 100 });
    const cli = await runCli(['model-service', 'trace', '--json', log]);
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as TraceEvent);
    assert.deepEqual(
      lines.map((l) => (l.type === 'turn' ? l.index : l.type)),
      [1, 2, 3, 4, 5, 'session_end'],
    );
  });

  it('refuses what it cannot trace with a clear error and exit status', async () => {
    const missing = await runCli(['model-service', 'trace', join(dir, 'nope.log')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^rock model-service trace: .*nope\.log does not exist; give an LLMService\.log/);
    const notTrace = join(dir, 'notes.txt');
    writeFileSync(notTrace, 'hello\nworld\n');
    const wrong = await runCli(['model-service', 'trace', notTrace]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /is not a trace/);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    assert.equal((await runCli(['model-service', 'trace', folder])).code, 2);
    const both = await runCli(['model-service', 'trace', '--json', '--html', join(dir, 'x.html'), notTrace]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--json and --html/);
  });

  it('--html writes the page through back-pressure with nothing else on stderr', async () => {
    const log = join(dir, 'LLMService.log');
    writeAgentSession(log, { turns: 400, toolOutputBytes: 2000, compactAt: 20_000 });
    const cli = await runCli(['model-service', 'trace', '--html', join(dir, 'page.html'), log]);
    assert.equal(cli.code, 0);
    assert.equal(cli.stderr, `wrote ${join(dir, 'page.html')}: 400 turns, SESSION_END\n`);
    assert.ok(readFileSync(join(dir, 'page.html'), 'utf8').endsWith('</html>\n'));
  });

  it('stops quietly when its reader goes away (| head)', async () => {
    const log = join(dir, 'LLMService.log');
    writeAgentSession(log, { turns: 400, toolOutputBytes: 2000, compactAt: 20_000 });
    const child = spawn('sh', ['-c', `"${process.execPath}" "${ROCK_BIN}" model-service trace "${log}" | head -n 3; echo "exit=\${PIPESTATUS:-$?}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    await new Promise((r) => child.on('close', r));
    assert.equal(out.split('\n').length, 5, out);
    assert.equal(err, '', 'no EPIPE error');
  });

  it('--follow prints turns as the log gains them and stops on Ctrl-C', async () => {
    const log = join(dir, 'LLMService.log');
    const t = 1_764_000_000_000;
    writeFileSync(log, reqLine({ messages: [{ role: 'user', content: 'first' }] }, 1, t));
    const child = spawn(process.execPath, [ROCK_BIN, 'model-service', 'trace', '--follow', log], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const waitFor = async (text: string): Promise<void> => {
      for (let i = 0; i < 250 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(out.includes(text), `${JSON.stringify(text)} did not appear in\n${out}`);
    };
    await waitFor('first');
    appendFileSync(log, resLine(chatAnswer({ role: 'assistant', content: 'live answer' }), 1, t + 1500));
    await waitFor('live answer');
    assert.match(out, /answered in 1\.50 s/);
    appendFileSync(log, 'SESSION_END\n');
    await waitFor('SESSION_END');
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
  });
});
