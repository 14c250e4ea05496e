import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startAgentApiServer, type AgentApiServer, type RuntimeAnswer, type SeenCall } from './agent-api-server.js';
import { messagesApi } from '../../src/wire/messages-api.js';
import { chunkText, completionText } from '../helpers/chat-completion.js';

const BIG = '12345678901234567890';
const BASH = { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object' as const, properties: { command: { type: 'string' }, id: { type: 'integer' } }, required: ['command'] } };

describe('wire: Anthropic Messages through a Chat Completions runtime (official @anthropic-ai/sdk as the agent)', () => {
  let server: AgentApiServer;
  let answers: RuntimeAnswer[];
  let client: Anthropic;

  beforeEach(async () => {
    answers = [];
    server = await startAgentApiServer(() => answers.shift() ?? { completion: completionText({ content: 'no more answers' }) });
    client = new Anthropic({ baseURL: server.url, apiKey: 'none', maxRetries: 0 });
  });
  afterEach(() => server.close());

  const seen = (i = 0): SeenCall => server.seen[i]!;

  it('messages.create: the runtime sees system and user as chat messages; the agent gets text, end_turn and usage', async () => {
    answers.push({ completion: completionText({ content: 'hello messages' }, 'stop', { prompt_tokens: 40, completion_tokens: 7, total_tokens: 47 }) });
    const message = await client.messages.create({
      model: 'claude-sonnet-x',
      max_tokens: 64,
      // Older clients send sampling fields; the 1.x types no longer list them.
      ...({ temperature: 0.5 } as object),
      system: [
        { type: 'text', text: 'x-billing-header' },
        { type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } },
      ],
      messages: [{ role: 'user', content: 'messages plain' }],
    });
    assert.deepEqual(seen().chat.messages, [
      { role: 'system', content: 'x-billing-header\nbe brief', cache_control: { type: 'ephemeral' } },
      { role: 'user', content: 'messages plain' },
    ]);
    assert.equal(seen().chat.max_tokens, 64);
    assert.equal(seen().chat.temperature, 0.5);
    assert.equal(seen().chat.model, 'claude-sonnet-x');
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, 'claude-sonnet-x');
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.content, [{ type: 'text', text: 'hello messages' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 40);
    assert.equal(message.usage.output_tokens, 7);
  });

  it('messages.stream with thinking and tool use: finalMessage has thinking, text and tool_use, ids and names kept, stop_reason tool_use', async () => {
    answers.push({
      chunks: [
        chunkText({ role: 'assistant', reasoning_content: 'The user wants ' }),
        chunkText({ reasoning_content: 'a listing.' }),
        chunkText({ content: 'Let me ' }),
        chunkText({ content: 'look.' }),
        chunkText({ tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'Bash', arguments: '' } }] }),
        chunkText({ tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }),
        chunkText({ tool_calls: [{ index: 0, function: { arguments: '"ls -la","id":' } }] }),
        chunkText({ tool_calls: [{ index: 0, function: { arguments: `${BIG}}` } }] }),
        chunkText({}, 'tool_calls'),
        JSON.stringify({ id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1, model: 'policy', choices: [], usage: { prompt_tokens: 900, completion_tokens: 30, total_tokens: 930, prompt_tokens_details: { cached_tokens: 800 } } }),
        '[DONE]',
      ],
    });
    const stream = client.messages.stream({
      model: 'claude-opus-x',
      max_tokens: 1024,
      thinking: { type: 'enabled', budget_tokens: 512 },
      tools: [BASH, { type: 'web_search_20250305', name: 'web_search' }],
      messages: [{ role: 'user', content: 'list the files' }],
    });
    const partials: string[] = [];
    const types: string[] = [];
    stream.on('streamEvent', (event) => {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') partials.push(event.delta.partial_json);
    });
    const message = await stream.finalMessage();

    assert.deepEqual(seen().chat.tools, [{ type: 'function', function: { name: 'Bash', description: BASH.description, parameters: BASH.input_schema } }]);
    assert.deepEqual(seen().dropped.sort(), ['field:thinking', 'tool:web_search']);
    assert.equal(seen().chat.stream, true);
    assert.deepEqual(seen().chat.stream_options, { include_usage: true });

    assert.deepEqual(
      message.content.map((b) => b.type),
      ['thinking', 'text', 'tool_use'],
    );
    assert.deepEqual(message.content[0], { type: 'thinking', thinking: 'The user wants a listing.', signature: '' });
    assert.deepEqual(message.content[1], { type: 'text', text: 'Let me look.' });
    const toolUse = message.content[2] as Anthropic.ToolUseBlock;
    assert.equal(toolUse.id, 'call_abc');
    assert.equal(toolUse.name, 'Bash');
    assert.equal((toolUse.input as { command: string }).command, 'ls -la');
    assert.equal(partials.join(''), `{"command":"ls -la","id":${BIG}}`, 'the partial JSON keeps the 19-digit integer as written');
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.usage.output_tokens, 30);
    assert.equal(message.usage.input_tokens, 100, 'input_tokens leaves out the cached part');
    assert.equal(message.usage.cache_read_input_tokens, 800);
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.equal(types.filter((t) => t === 'content_block_start').length, 3);
  });

  it('sends the conversation back: tool_use becomes tool_calls with its id, tool_result a tool message (is_error kept), a 19-digit input as written', async () => {
    const toolCall = completionText({ content: null, tool_calls: [{ id: 'toolu_7', type: 'function', function: { name: 'Bash', arguments: `{"command":"rm x","id":${BIG}}` } }] }, 'tool_calls');
    answers.push({ completion: toolCall }, { completion: toolCall }, { completion: completionText({ content: 'done' }) });
    const first = await client.messages.create({ model: 'm', max_tokens: 64, tools: [BASH], messages: [{ role: 'user', content: 'delete x' }] });
    assert.equal(first.stop_reason, 'tool_use');
    const raw = await client.messages
      .create({ model: 'm', max_tokens: 64, tools: [BASH], messages: [{ role: 'user', content: 'delete x' }] })
      .asResponse()
      .then((r) => r.text());
    assert.ok(raw.includes(`"id":${BIG}`), `the tool_use input keeps ${BIG}: ${raw}`);

    const history: Anthropic.MessageParam[] = [
      { role: 'user', content: 'delete x' },
      { role: 'assistant', content: [{ type: 'text', text: 'Deleting.' }, { type: 'tool_use', id: 'toolu_7', name: 'Bash', input: { command: 'rm x' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_7', content: [{ type: 'text', text: 'rm: no such file' }], is_error: true },
          { type: 'text', text: 'try again' },
        ],
      },
    ];
    // The request body is written by hand so that the tool input carries a 19-digit integer as text.
    const body = JSON.stringify({ model: 'm', max_tokens: 64, tools: [BASH], messages: history }).replace('{"command":"rm x"}', `{"command":"rm x","id":${BIG}}`);
    const reply = await fetch(`${server.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(reply.status, 200);
    const call = server.seen.at(-1)!;
    assert.deepEqual((call.chat.messages as unknown[]).slice(1), [
      {
        role: 'assistant',
        content: 'Deleting.',
        tool_calls: [{ id: 'toolu_7', type: 'function', function: { name: 'Bash', arguments: `{"command":"rm x","id":${BIG}}` } }],
      },
      { role: 'tool', tool_call_id: 'toolu_7', content: 'rm: no such file', is_error: true },
      { role: 'user', content: 'try again' },
    ]);
    assert.ok(call.chatText.includes(`\\"id\\":${BIG}}`), 'the runtime reads the 19-digit integer as the agent wrote it');
  });

  it('renames a tool name Chat Completions forbids and maps the call back to the agent name', async () => {
    const long = 'mcp__a_server_with_a_long_name__a_tool_whose_name_is_longer_than_sixty_four';
    answers.push({ completion: '' });
    await client.messages.create({ model: 'm', max_tokens: 8, tools: [{ name: long, input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    const chatName = ((seen().chat.tools as { function: { name: string } }[])[0]!).function.name;
    assert.match(chatName, /^[a-zA-Z0-9_-]{1,64}$/);
    answers.push({ completion: completionText({ content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: chatName, arguments: '{}' } }] }, 'tool_calls') });
    const message = await client.messages.create({ model: 'm', max_tokens: 8, tools: [{ name: long, input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'x' }] });
    assert.equal((message.content[0] as Anthropic.ToolUseBlock).name, long);
    assert.equal(((server.seen[1]!.chat.tools as { function: { name: string } }[])[0]!).function.name, chatName, 'the same name every turn');
  });

  it('a tool call whose arguments are not a JSON object is a 502 in Anthropic error shape, plain and streamed', async () => {
    const bad = completionText({ content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'Bash', arguments: '[1,2]' } }] }, 'tool_calls');
    answers.push({ completion: bad }, { completion: bad });
    await assert.rejects(client.messages.create({ model: 'm', max_tokens: 8, tools: [BASH], messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 502);
      assert.equal((err.error as { error: { type: string } }).error.type, 'api_error');
      assert.match(err.message, /not a JSON object/);
      return true;
    });
    await assert.rejects(client.messages.stream({ model: 'm', max_tokens: 8, tools: [BASH], messages: [{ role: 'user', content: 'x' }] }).finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.match(err.message, /not a JSON object/);
      return true;
    });
  });

  it('an error after the stream began reaches the client as the API error it names (timeout_error)', async () => {
    answers.push({ chunks: [chunkText({ content: 'partial' })], failAfter: { status: 504, code: 'RMS_TIMEOUT', message: 'the runtime did not answer within 600 s' } });
    await assert.rejects(client.messages.stream({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal((err.error as { error: { type: string } }).error.type, 'timeout_error');
      assert.match(err.message, /did not answer within 600 s/);
      return true;
    });
  });

  it('a request that is not a Messages request is a 400 invalid_request_error naming what is wrong', async () => {
    await assert.rejects(
      client.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'robot' as 'user', content: 'x' }] }),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /messages\[0\]\.role/.test(err.message),
    );
    assert.equal(server.seen.length, 0, 'nothing reached the runtime');
  });

  it('stop_sequences reach the runtime as stop, and a matched one comes back as stop_sequence', async () => {
    const answer = JSON.parse(completionText({ content: 'one two' }));
    answer.choices[0].stop_reason = 'THREE';
    answers.push({ completion: JSON.stringify(answer) });
    const message = await client.messages.create({ model: 'm', max_tokens: 8, stop_sequences: ['THREE'], messages: [{ role: 'user', content: 'count' }] });
    assert.deepEqual(seen().chat.stop, ['THREE']);
    assert.equal(message.stop_reason, 'stop_sequence');
    assert.equal(message.stop_sequence, 'THREE');
  });

  it('count_tokens answers an estimate the client parses, and models.list the configured models', async () => {
    const counted = await client.messages.countTokens({ model: 'm', system: 'x'.repeat(400), messages: [{ role: 'user', content: 'y'.repeat(400) }] });
    assert.equal(counted.input_tokens, 200);
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => [m.id, m.type, m.display_name, m.created_at]),
      [
        ['policy-a', 'model', 'policy-a', '2025-01-02T00:00:00.000Z'],
        ['policy-b', 'model', 'policy-b', '2025-01-02T00:00:00.000Z'],
      ],
    );
  });

  it('native mode: a Messages object the runtime wrote streams as events the client rebuilds into the same message', async () => {
    const native = `{"id":"msg_n","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"hm","signature":"sig-1"},{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls","id":${BIG}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":4}}`;
    const events = messagesApi.finalToStream(native);
    assert.ok(events.includes(`\\"id\\":${BIG}`), 'the input_json_delta keeps the number as written');
    answers.push({ native });
    const message = await client.messages.stream({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
    assert.deepEqual(message.content[0], { type: 'thinking', thinking: 'hm', signature: 'sig-1' });
    assert.deepEqual(message.content[1], { type: 'text', text: 'ok' });
    assert.equal((message.content[2] as Anthropic.ToolUseBlock).id, 'toolu_1');
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.usage.output_tokens, 4);
  });
});
