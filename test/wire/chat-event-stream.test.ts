import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { completionToEventStream } from '../../src/wire/chat-chunks.js';
import { startTestService, type TestService } from '../helpers/service.js';

const TOOL_REPLY = {
  id: 'chatcmpl-tools',
  object: 'chat.completion',
  created: 1700000000,
  model: 'policy-v1',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Let me look that up. 日本語',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"query":"SESSION_END in logs","k":3}' } },
          { id: 'call_2', type: 'function', function: { name: 'open', arguments: '{"path":"/tmp/x"}' } },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
};

/** Parses an SSE body into its data payloads. */
const events = (body: string): string[] =>
  body
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));

describe('server: streaming replies', () => {
  it('turns a completion into chunks: whole message as delta, tool calls indexed, finish reason, usage, [DONE]', () => {
    const out = events(completionToEventStream(JSON.stringify(TOOL_REPLY)));
    assert.equal(out.at(-1), '[DONE]');
    const chunks = out.slice(0, -1).map((e) => JSON.parse(e));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-tools' && c.model === 'policy-v1'));
    assert.deepEqual(chunks[0].choices[0].delta.tool_calls.map((t: { index: number }) => t.index), [0, 1]);
    assert.equal(chunks[0].choices[0].delta.content, 'Let me look that up. 日本語');
    assert.equal(chunks[0].choices[0].finish_reason, null);
    assert.equal(chunks[1].choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(chunks[2].usage, TOOL_REPLY.usage);
  });

  it('keeps every number of a streamed reply as the runtime spelled it (19-digit integers, 1.50, 1E+2)', () => {
    const reply =
      '{"id":"c","object":"chat.completion","created":1700000000,"model":"m","system_fingerprint":12345678901234567890,' +
      '"choices":[{"index":0,"message":{"role":"assistant","content":"n = 12345678901234567890"},"logprobs":{"p":1.50,"q":1E+2},"finish_reason":"stop"}],' +
      '"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}';
    const out = events(completionToEventStream(reply));
    assert.match(out[0]!, /"system_fingerprint":12345678901234567890,/);
    assert.match(out[0]!, /"logprobs":\{"p":1\.50,"q":1E\+2\}/);
    assert.match(out[0]!, /"content":"n = 12345678901234567890"/);
    assert.ok(!out.join('').includes('rms-number'), 'no placeholder leaks');
    for (const e of out.slice(0, -1)) JSON.parse(e);
  });

  it('sends a reply that is not a chat completion as one event', () => {
    assert.deepEqual(events(completionToEventStream('{"error":{"message":"no"}}')), ['{"error":{"message":"no"}}', '[DONE]']);
  });

  describe('with the official openai client as the agent', () => {
    let svc: TestService;
    let client: OpenAI;
    beforeEach(async () => {
      svc = await startTestService();
      client = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    });
    afterEach(async () => {
      await svc.close();
    });

    const runtimeAnswers = async (index: number): Promise<Record<string, unknown>> => {
      const request = JSON.parse(await svc.request(index));
      svc.respond(index, JSON.stringify(TOOL_REPLY));
      return request;
    };

    it('gets a tool-call reply, plain', async () => {
      const [completion, request] = await Promise.all([
        client.chat.completions.create({ model: 'policy-v1', messages: [{ role: 'user', content: 'find it' }] }),
        runtimeAnswers(1),
      ]);
      assert.equal(request.model, 'policy-v1');
      assert.deepEqual(completion, TOOL_REPLY);
    });

    it('gets the same reply streamed: the deltas reassemble to the message and its tool calls', async () => {
      const answered = runtimeAnswers(1);
      const stream = await client.chat.completions.create({ model: 'policy-v1', messages: [{ role: 'user', content: 'find it' }], stream: true });
      let content = '';
      let finish: string | null = null;
      const calls: { id?: string; name: string; arguments: string }[] = [];
      for await (const chunk of stream) {
        for (const choice of chunk.choices) {
          content += choice.delta.content ?? '';
          for (const call of choice.delta.tool_calls ?? []) {
            calls[call.index] ??= { name: '', arguments: '' };
            const slot = calls[call.index]!;
            if (call.id) slot.id = call.id;
            slot.name += call.function?.name ?? '';
            slot.arguments += call.function?.arguments ?? '';
          }
          finish = choice.finish_reason ?? finish;
        }
      }
      assert.equal((await answered).stream, true);
      const message = TOOL_REPLY.choices[0]!.message;
      assert.equal(content, message.content);
      assert.equal(finish, 'tool_calls');
      assert.deepEqual(
        calls,
        message.tool_calls.map((t) => ({ id: t.id, name: t.function.name, arguments: t.function.arguments })),
      );
    });

    it('gets a final completion from the stream helper equal to the plain reply', async () => {
      const answered = runtimeAnswers(1);
      const stream = client.chat.completions.stream({ model: 'policy-v1', messages: [{ role: 'user', content: 'find it' }] });
      const final = await stream.finalChatCompletion();
      await answered;
      assert.equal(final.choices[0]!.message.content, TOOL_REPLY.choices[0]!.message.content);
      assert.deepEqual(
        final.choices[0]!.message.tool_calls?.map((t) => (t.type === 'function' ? [t.id, t.function.name, t.function.arguments] : [])),
        TOOL_REPLY.choices[0]!.message.tool_calls.map((t) => [t.id, t.function.name, t.function.arguments]),
      );
      assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    });
  });
});
