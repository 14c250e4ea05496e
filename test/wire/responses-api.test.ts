import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startAgentApiServer, type AgentApiServer, type RuntimeAnswer, type SeenCall } from './agent-api-server.js';
import { createAgentApis } from '../../src/wire/agent-apis.js';
import { ResponsesStore } from '../../src/wire/responses-store.js';
import { chunkText, completionText } from '../helpers/chat-completion.js';

const BIG = '12345678901234567890';

/** The text of a response's messages (the client adds `output_text` to created responses, not to streamed ones). */
const textOf = (response: OpenAI.Responses.Response): string =>
  response.output.flatMap((o) => (o.type === 'message' ? o.content.map((c) => (c.type === 'output_text' ? c.text : '')) : [])).join('');
const WEATHER = { type: 'function' as const, name: 'get_weather', description: 'weather of a city', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

describe('wire: OpenAI Responses through a Chat Completions runtime (official openai client as the agent)', () => {
  let server: AgentApiServer;
  let answers: RuntimeAnswer[];
  let client: OpenAI;

  beforeEach(async () => {
    answers = [];
    server = await startAgentApiServer(() => answers.shift() ?? { completion: completionText({ content: 'no more answers' }) }, createAgentApis({ responsesStore: new ResponsesStore({ maxResponses: 50 }) }));
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
  });
  afterEach(() => server.close());

  const seen = (i = 0): SeenCall => server.seen[i]!;

  it('responses.create: instructions become the system message, the answer output_text, usage mapped', async () => {
    answers.push({ completion: completionText({ content: 'hello responses' }, 'stop', { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }) });
    const response = await client.responses.create({ model: 'policy', instructions: 'be brief', input: 'responses plain', max_output_tokens: 50, temperature: 0.2 });
    assert.deepEqual(seen().chat.messages, [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'responses plain' },
    ]);
    assert.equal(seen().chat.max_tokens, 50);
    assert.equal(seen().chat.temperature, 0.2);
    assert.equal(response.object, 'response');
    assert.match(response.id, /^resp_/);
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'hello responses');
    assert.equal(response.instructions, 'be brief');
    assert.equal(response.usage?.input_tokens, 12);
    assert.equal(response.usage?.output_tokens, 3);
    assert.equal(response.usage?.total_tokens, 15);
  });

  it('responses.stream with a function call: finalResponse has the call with its id and arguments; sequence numbers count up from 0', async () => {
    answers.push({
      chunks: [
        chunkText({ role: 'assistant', content: 'Checking ' }),
        chunkText({ content: 'the weather.' }),
        chunkText({ tool_calls: [{ index: 0, id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }),
        chunkText({ tool_calls: [{ index: 0, function: { arguments: `ty":"Paris","n":${BIG}}` } }] }),
        chunkText({}, 'tool_calls', { usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 } }),
        '[DONE]',
      ],
    });
    const stream = client.responses.stream({ model: 'policy', input: 'responses streamed', tools: [WEATHER, { type: 'web_search' }] });
    const sequence: number[] = [];
    const deltas: string[] = [];
    stream.on('event', (event) => sequence.push(event.sequence_number));
    stream.on('response.function_call_arguments.delta', (event) => deltas.push(event.delta));
    const response = await stream.finalResponse();
    assert.deepEqual(seen().dropped, ['tool:web_search']);
    assert.deepEqual(seen().chat.tools, [{ type: 'function', function: { name: 'get_weather', description: WEATHER.description, parameters: WEATHER.parameters, strict: false } }]);
    assert.deepEqual(sequence, sequence.map((_, i) => i));
    assert.equal(textOf(response), 'Checking the weather.');
    const call = response.output.find((o) => o.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(call.call_id, 'call_w1');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, `{"city":"Paris","n":${BIG}}`, 'arguments are the runtime text, numbers as written');
    assert.equal(deltas.join(''), call.arguments);
    assert.equal(response.status, 'completed');
    assert.equal(response.usage?.total_tokens, 29);
  });

  it('previous_response_id: the runtime sees the whole chain (user, assistant tool call, tool output) in chat form', async () => {
    answers.push({ completion: completionText({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }, 'tool_calls') });
    answers.push({ completion: completionText({ content: 'It is cold.' }) });
    answers.push({ completion: completionText({ content: 'Wear a coat.' }) });
    const first = await client.responses.create({ model: 'policy', instructions: 'weather bot', input: 'weather in Oslo?', tools: [WEATHER] });
    const second = await client.responses.create({
      model: 'policy',
      instructions: 'weather bot',
      previous_response_id: first.id,
      tools: [WEATHER],
      input: [{ type: 'function_call_output', call_id: 'call_1', output: '-5 C' }],
    });
    assert.equal(second.output_text, 'It is cold.');
    assert.equal(second.previous_response_id, first.id);
    assert.deepEqual(seen(1).chat.messages, [
      { role: 'system', content: 'weather bot' },
      { role: 'user', content: 'weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '-5 C' },
    ]);
    await client.responses.create({ model: 'policy', previous_response_id: second.id, input: 'and tomorrow?' });
    assert.deepEqual(
      (seen(2).chat.messages as { role: string; content: unknown }[]).map((m) => [m.role, m.content]),
      [
        ['user', 'weather in Oslo?'],
        ['assistant', null],
        ['tool', '-5 C'],
        ['assistant', 'It is cold.'],
        ['user', 'and tomorrow?'],
      ],
      'instructions are not carried over from an earlier response, as OpenAI documents',
    );
  });

  it('store: false is not kept: a later previous_response_id naming it is a 400 in the OpenAI error shape', async () => {
    answers.push({ completion: completionText({ content: 'ok' }) });
    const first = await client.responses.create({ model: 'policy', input: 'hi', store: false });
    await assert.rejects(client.responses.create({ model: 'policy', previous_response_id: first.id, input: 'again' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.code, 'RMS_UNKNOWN_RESPONSE');
      assert.match(err.message, /store: false/);
      return true;
    });
    assert.equal(server.seen.length, 1, 'the refused call never reached the runtime');
  });

  it('reasoning: a summary when the agent asked for one, else reasoning_text content; both rebuilt by the client stream', async () => {
    const thinking = [chunkText({ reasoning_content: 'Think ' }), chunkText({ reasoning_content: 'hard.' }), chunkText({ content: 'Answer.' }), chunkText({}, 'stop'), '[DONE]'];
    answers.push({ chunks: thinking }, { chunks: thinking });
    const summarized = await client.responses.stream({ model: 'policy', input: 'q', reasoning: { effort: 'high', summary: 'auto' } }).finalResponse();
    assert.equal(seen(0).chat.reasoning_effort, 'high');
    const rs = summarized.output[0]!;
    assert.ok(rs.type === 'reasoning');
    assert.deepEqual(rs.summary, [{ type: 'summary_text', text: 'Think hard.' }]);
    const raw = await client.responses.stream({ model: 'policy', input: 'q' }).finalResponse();
    const rt = raw.output[0]!;
    assert.ok(rt.type === 'reasoning');
    assert.deepEqual(rt.summary, []);
    assert.deepEqual(rt.content, [{ type: 'reasoning_text', text: 'Think hard.' }]);
    assert.equal(textOf(raw), 'Answer.');
  });

  it('Codex-shaped input: developer role, reasoning items with encrypted_content, namespace tools flattened and mapped back', async () => {
    answers.push({ completion: completionText({ content: null, tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'mcp__files__read', arguments: '{"path":"a"}' } }] }, 'tool_calls') });
    const body = {
      model: 'policy',
      instructions: 'You are Codex.',
      store: false,
      stream: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'medium', summary: 'auto' },
      tools: [{ type: 'namespace', name: 'mcp__files__', description: 'Tools in the mcp__files__ namespace.', tools: [{ type: 'function', name: 'read', description: 'read a file', strict: false, parameters: { type: 'object', properties: { path: { type: 'string' } } } }] }],
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'sandbox: none' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'read a' }] },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'I should read.' }], encrypted_content: 'opaque-1' },
        { type: 'function_call', name: 'read', namespace: 'mcp__files__', arguments: '{"path":"b"}', call_id: 'call_0' },
        { type: 'function_call_output', call_id: 'call_0', output: 'contents of b' },
      ],
    };
    const response = (await client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)) as OpenAI.Responses.Response;
    assert.deepEqual(seen().chat.messages, [
      { role: 'system', content: 'You are Codex.' },
      { role: 'system', content: 'sandbox: none' },
      { role: 'user', content: 'read a' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'I should read.',
        thinking_blocks: [{ type: 'thinking', thinking: 'I should read.', signature: 'opaque-1' }],
        tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'mcp__files__read', arguments: '{"path":"b"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_0', content: 'contents of b' },
    ]);
    const call = response.output[0] as OpenAI.Responses.ResponseFunctionToolCall & { namespace?: string };
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'read');
    assert.equal(call.namespace, 'mcp__files__');
    assert.equal(call.call_id, 'call_2');
  });

  it('a finish by length is an incomplete response (max_output_tokens), streamed as response.incomplete', async () => {
    answers.push({ completion: completionText({ content: 'cut' }, 'length') }, { completion: completionText({ content: 'cut' }, 'length') });
    const plain = await client.responses.create({ model: 'policy', input: 'long' });
    assert.equal(plain.status, 'incomplete');
    assert.deepEqual(plain.incomplete_details, { reason: 'max_output_tokens' });
    const types: string[] = [];
    const stream = await client.responses.create({ model: 'policy', input: 'long', stream: true });
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), 'response.incomplete');
    assert.ok(!types.includes('response.completed'));
  });

  it('an error after the stream began rejects the client with the message; Codex gets response.failed too', async () => {
    answers.push({ chunks: [chunkText({ content: 'par' })], failAfter: { status: 500, code: 'RMS_SESSION_ENDED', message: 'the session has ended' } });
    const stream = client.responses.stream({ model: 'policy', input: 'x' });
    await assert.rejects(stream.finalResponse(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.match(err.message, /the session has ended/);
      return true;
    });
  });

  it('native mode: a Responses object the runtime wrote streams as events the client rebuilds into the same response', async () => {
    const native = `{"id":"resp_n","object":"response","created_at":1,"status":"completed","model":"m","output":[{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"hm"}]},{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"ok","annotations":[]}]},{"id":"fc_1","type":"function_call","status":"completed","call_id":"call_1","name":"get_weather","arguments":"{\\"n\\":${BIG}}"}],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":0}},"tools":[],"parallel_tool_calls":true,"tool_choice":"auto","error":null,"incomplete_details":null,"instructions":null,"metadata":{},"temperature":1,"top_p":1}`;
    answers.push({ native });
    const response = await client.responses.stream({ model: 'm', input: 'x' }).finalResponse();
    assert.equal(response.id, 'resp_n');
    assert.equal(textOf(response), 'ok');
    const call = response.output[2]!;
    assert.ok(call.type === 'function_call');
    assert.equal(call.arguments, `{"n":${BIG}}`);
  });
});
