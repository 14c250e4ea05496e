/**
 * Properties of the translation, over generated answers and requests: the event stream of an
 * answer, however the runtime's chunks cut it, rebuilds (in the official clients' own stream
 * helpers) into the object the plain call returns; numbers keep their spelling both ways.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createAgentApis } from '../../src/wire/agent-apis.js';
import type { AgentApi } from '../../src/wire/agent-api.js';
import { agentToolName } from '../../src/wire/tool-names.js';
import { chunkText, usageChunk } from '../helpers/chat-completion.js';

const TOOLS = ['Bash', 'Read', 'mcp__server__a_tool_with_quite_a_long_name_that_will_not_fit_in_64'];

/**
 * Object keys that look like array indices ("0", "12") are left out: every JavaScript object, the
 * agents' own included, lists them first, so their order cannot survive a JavaScript agent anyway.
 */
const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__' && !/^(0|[1-9]\d*)$/.test(k));

/** A JSON value as text, with numbers spelled as a runtime might (19-digit integers, 1.50, -0.25). */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
    fc.constantFrom('1.50', '-0.25', '3.0', '0', '42'),
    fc.string().map((s) => JSON.stringify(s)),
    fc.constantFrom('true', 'false', 'null'),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 4, selector: ([k]) => k })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

const argumentsText = fc
  .uniqueArray(fc.tuple(key, jsonText), { maxLength: 5, selector: ([k]) => k })
  .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

interface GeneratedAnswer {
  reasoning: string;
  text: string;
  calls: { id: string; name: string; args: string }[];
  finish: 'stop' | 'length' | 'tool_calls';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const answerArb: fc.Arbitrary<GeneratedAnswer> = fc.record({
  reasoning: fc.string({ unit: 'grapheme', maxLength: 40 }),
  text: fc.string({ unit: 'grapheme', maxLength: 40 }),
  calls: fc.uniqueArray(fc.record({ id: fc.stringMatching(/^call_[a-z0-9]{1,8}$/), name: fc.constantFrom(...TOOLS), args: argumentsText }), { maxLength: 3, selector: (c) => c.id }),
  finish: fc.constantFrom('stop' as const, 'length' as const, 'tool_calls' as const),
  usage: fc.record({ prompt_tokens: fc.nat(10_000), completion_tokens: fc.nat(10_000), total_tokens: fc.nat(20_000) }),
});

/** The chat.completion of an answer, written as text so that the arguments keep their spelling. */
function completionText(a: GeneratedAnswer, chatName: (name: string) => string): string {
  const calls = a.calls.map((c) => `{"id":${JSON.stringify(c.id)},"type":"function","function":{"name":${JSON.stringify(chatName(c.name))},"arguments":${JSON.stringify(c.args)}}}`);
  const message =
    `{"role":"assistant","content":${JSON.stringify(a.text)}` +
    (a.reasoning === '' ? '' : `,"reasoning_content":${JSON.stringify(a.reasoning)}`) +
    (calls.length === 0 ? '' : `,"tool_calls":[${calls.join(',')}]`) +
    '}';
  return `{"id":"chatcmpl-p","object":"chat.completion","created":1,"model":"policy","choices":[{"index":0,"message":${message},"finish_reason":"${a.finish}"}],"usage":${JSON.stringify(a.usage)}}`;
}

/** Cuts a string into pieces at the given code-point positions (a real server never splits a character). */
function cut(text: string, cuts: number[]): string[] {
  const chars = Array.from(text);
  const at = [...new Set(cuts.map((c) => c % (chars.length + 1)))].sort((x, y) => x - y);
  const pieces: string[] = [];
  let from = 0;
  for (const p of [...at, chars.length]) {
    if (p > from) pieces.push(chars.slice(from, p).join(''));
    from = p;
  }
  return pieces;
}

/** The chunks an upstream might send for an answer, each text cut where `cuts` says. */
function chunkTexts(a: GeneratedAnswer, chatName: (name: string) => string, cuts: number[]): string[] {
  const out = [chunkText({ role: 'assistant' })];
  for (const piece of cut(a.reasoning, cuts)) out.push(chunkText({ reasoning_content: piece }));
  for (const piece of cut(a.text, cuts)) out.push(chunkText({ content: piece }));
  a.calls.forEach((c, index) => {
    out.push(chunkText({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: chatName(c.name), arguments: '' } }] }));
    for (const piece of cut(c.args, cuts)) out.push(chunkText({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  out.push(chunkText({}, a.finish));
  out.push(JSON.stringify(usageChunk(a.usage)));
  out.push('[DONE]');
  return out;
}

/** A message as JSON says it, without the client's own `parsed_output` helper field. */
function comparable(message: Anthropic.Message): unknown {
  const { parsed_output: _parsed, ...rest } = message as Anthropic.Message & { parsed_output?: unknown };
  return JSON.parse(JSON.stringify(rest));
}

/** A fetch that answers every call with `body` (no network: the client's own parsing and stream helpers still run). */
function answering(body: () => string, contentType: string): typeof fetch {
  return async () => new Response(body(), { status: 200, headers: { 'content-type': contentType } });
}

/** The chat names the runtime sees for the tools, from one translation of a request offering them. */
function chatNames(api: AgentApi<unknown>, request: object): (name: string) => string {
  const translation = api.toChat(JSON.stringify(request));
  const tools = (JSON.parse(translation.chat).tools ?? []) as { function: { name: string } }[];
  const map = new Map(tools.map((t) => [agentToolName((translation.state as { tools: Record<string, { name: string }> }).tools, t.function.name).name, t.function.name]));
  return (name) => map.get(name) ?? name;
}

describe('wire: translation properties', () => {
  it('Messages: the stream of any answer, cut anywhere, rebuilds in the SDK into the plain message; arguments keep their spelling', async () => {
    const apis = createAgentApis();
    const request = { model: 'm', max_tokens: 10, tools: TOOLS.map((name) => ({ name, input_schema: { type: 'object' } })), messages: [{ role: 'user', content: 'go' }] };
    const names = chatNames(apis.messages as AgentApi<unknown>, request);
    await fc.assert(
      fc.asyncProperty(answerArb, fc.array(fc.nat(60), { maxLength: 6 }), async (answer, cuts) => {
        const { state } = apis.messages.toChat(JSON.stringify(request));
        const completion = completionText(answer, names);
        const plainText = apis.messages.fromChat(completion, state);
        for (const call of answer.calls) assert.ok(plainText.includes(`"input":${call.args}`), `plain keeps ${call.args}`);
        const stream = apis.messages.createStream(state);
        let sse = stream.start();
        for (const c of chunkTexts(answer, names, cuts)) sse += stream.push(c);
        sse += stream.end();

        const plainClient = new Anthropic({ apiKey: 'x', maxRetries: 0, fetch: answering(() => plainText, 'application/json') });
        const streamClient = new Anthropic({ apiKey: 'x', maxRetries: 0, fetch: answering(() => sse, 'text/event-stream') });
        const plain = await plainClient.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'go' }] });
        const events: Anthropic.RawMessageStreamEvent[] = [];
        const streamed = await streamClient.messages
          .stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'go' }] })
          .on('streamEvent', (e) => events.push(e))
          .finalMessage();
        assert.deepEqual(comparable(streamed), comparable(plain));
        for (const [i, call] of answer.calls.entries()) {
          const block = plain.content.findIndex((b) => b.type === 'tool_use' && b.id === call.id);
          const partial = events
            .filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === 'content_block_delta' && e.index === block && e.delta.type === 'input_json_delta')
            .map((e) => (e.delta as Anthropic.InputJSONDelta).partial_json)
            .join('');
          assert.equal(partial, call.args, `call ${i}: the streamed input JSON is the runtime's text`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('Responses: the stream of any answer, cut anywhere, rebuilds in the openai client into the plain response', async () => {
    const apis = createAgentApis();
    const request = { model: 'm', input: 'go', store: false, reasoning: { summary: 'auto' }, tools: TOOLS.map((name) => ({ type: 'function', name, parameters: { type: 'object' } })) };
    const names = chatNames(apis.responses as AgentApi<unknown>, request);
    /** Item ids are random per call: compare by position, and without the helper fields the client adds to one path or the other. */
    const normalize = (r: OpenAI.Responses.Response): unknown =>
      JSON.parse(
        JSON.stringify({ ...r, output: r.output.map((o, i) => ({ ...o, id: `item_${i}` })) }, (k, v: unknown) =>
          ['output_text', 'output_parsed', 'parsed', 'parsed_arguments'].includes(k) ? undefined : v,
        ),
      );
    await fc.assert(
      fc.asyncProperty(answerArb, fc.array(fc.nat(60), { maxLength: 6 }), fc.boolean(), async (answer, cuts, summary) => {
        const req = summary ? request : { ...request, reasoning: undefined };
        const { state } = apis.responses.toChat(JSON.stringify(req));
        const completion = completionText(answer, names);
        const plainText = apis.responses.fromChat(completion, state);
        const stream = apis.responses.createStream(state);
        let sse = stream.start();
        for (const c of chunkTexts(answer, names, cuts)) sse += stream.push(c);
        sse += stream.end();
        const plain = await new OpenAI({ apiKey: 'x', maxRetries: 0, fetch: answering(() => plainText, 'application/json') }).responses.create({ model: 'm', input: 'go' });
        const client = new OpenAI({ apiKey: 'x', maxRetries: 0, fetch: answering(() => sse, 'text/event-stream') });
        const sequence: number[] = [];
        const events: OpenAI.Responses.ResponseStreamEvent[] = [];
        const streamed = await client.responses
          .stream({ model: 'm', input: 'go' })
          .on('event', (e) => {
            sequence.push(e.sequence_number);
            events.push(e);
          })
          .finalResponse();
        const terminal = events.at(-1)!;
        assert.ok(terminal.type === 'response.completed' || terminal.type === 'response.incomplete');
        assert.deepEqual(normalize(terminal.response), normalize(plain));
        // The client rebuilds only from response.completed (as with OpenAI's own incomplete responses).
        if (terminal.type === 'response.completed') assert.deepEqual(normalize(streamed), normalize(plain));
        assert.deepEqual(sequence, sequence.map((_, i) => i));
        for (const call of answer.calls) {
          const item = plain.output.find((o) => o.type === 'function_call' && o.call_id === call.id);
          assert.ok(item && item.type === 'function_call' && item.arguments === call.args);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('Messages requests: tool_use inputs reach the runtime as arguments spelled as the agent wrote them', () => {
    const apis = createAgentApis();
    fc.assert(
      fc.property(fc.array(argumentsText, { minLength: 1, maxLength: 4 }), (inputs) => {
        const history = inputs.map((input, i) => `{"role":"assistant","content":[{"type":"tool_use","id":"t${i}","name":"Bash","input":${input}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t${i}","content":"ok"}]}`);
        const body = `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"go"},${history.join(',')}]}`;
        const { chat } = apis.messages.toChat(body);
        for (const input of inputs) assert.ok(chat.includes(`"arguments":${JSON.stringify(input)}`), `${input} in ${chat}`);
      }),
      { numRuns: 200 },
    );
  });

});
