import assert from 'node:assert/strict';
import { InvalidArgumentError, InvalidJsonError } from '../../src/errors.js';
import { messagesToChat } from '../../src/wire/messages-request.js';

const chatOf = (request: object) => {
  const t = messagesToChat(JSON.stringify(request));
  return { chat: JSON.parse(t.chat), dropped: t.dropped, state: t.state };
};
const base = { model: 'claude-x', max_tokens: 100 };

describe('wire: Messages request → Chat Completions request', () => {
  it('images (base64 and url) and documents become chat parts; a user turn with only text becomes one string', () => {
    const { chat } = chatOf({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' }, title: 'spec.pdf' },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain doc' } },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      ],
    });
    assert.deepEqual(chat.messages[0].content, [
      { type: 'text', text: 'look' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
      { type: 'image_url', image_url: { url: 'https://x/y.png' } },
      { type: 'file', file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBER' } },
      { type: 'text', text: 'plain doc' },
    ]);
    assert.deepEqual(chat.messages[1], { role: 'user', content: 'a\nb' });
  });

  it('tool results come first as tool messages; images inside them follow in a user message', () => {
    const { chat } = chatOf({
      ...base,
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: { file: 'a.png' } }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'here' },
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'an image:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } }] },
          ],
        },
      ],
    });
    assert.deepEqual(chat.messages.slice(1), [
      { role: 'tool', tool_call_id: 't1', content: 'an image:' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } }, { type: 'text', text: 'here' }] },
    ]);
  });

  it('tool_choice, disable_parallel_tool_use, metadata.user_id, output_config.effort and top-level cache_control map across', () => {
    const tools = [{ name: 'Bash', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }];
    const cases: [object, object][] = [
      [{ type: 'auto' }, { tool_choice: 'auto' }],
      [{ type: 'any', disable_parallel_tool_use: true }, { tool_choice: 'required', parallel_tool_calls: false }],
      [{ type: 'none' }, { tool_choice: 'none' }],
      [{ type: 'tool', name: 'Bash' }, { tool_choice: { type: 'function', function: { name: 'Bash' } } }],
    ];
    for (const [choice, expected] of cases) {
      const { chat } = chatOf({ ...base, tools, tool_choice: choice, messages: [{ role: 'user', content: 'x' }] });
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(chat[k], v, JSON.stringify(choice));
    }
    const { chat, dropped } = chatOf({
      ...base,
      tools,
      metadata: { user_id: 'user_1_session_2' },
      output_config: { effort: 'high', unknown_knob: 1 },
      cache_control: { type: 'ephemeral' },
      context_management: { edits: [] },
      speed: 'fast',
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(chat.user, 'user_1_session_2');
    assert.equal(chat.reasoning_effort, 'high');
    assert.deepEqual(chat.cache_control, { type: 'ephemeral' });
    assert.deepEqual(chat.tools[0].cache_control, { type: 'ephemeral' });
    assert.deepEqual(dropped.sort(), ['field:context_management', 'field:output_config.unknown_knob']);
  });

  it('a tool list left with nothing (only server tools) sends no tools and no tool_choice', () => {
    const { chat, dropped } = chatOf({ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }], tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(chat.tools, undefined);
    assert.equal(chat.tool_choice, undefined);
    assert.deepEqual(dropped, ['tool:web_search']);
  });

  it('assistant blocks the runtime cannot use are left out and named; an empty signature is not carried', () => {
    const { chat, dropped } = chatOf({
      ...base,
      messages: [
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'a', signature: '' },
            { type: 'server_tool_use', id: 's', name: 'web_search', input: {} },
            { type: 'web_search_tool_result', tool_use_id: 's', content: [] },
            { type: 'text', text: 'b' },
          ],
        },
      ],
    });
    assert.deepEqual(chat.messages[0], { role: 'assistant', content: 'b', reasoning_content: 'a' });
    assert.deepEqual(dropped.sort(), ['block:server_tool_use', 'block:web_search_tool_result']);
  });

  it('a system message inside the conversation (Claude Code 2.x sends one each turn, with its own output_config) is a chat system message', () => {
    const { chat, dropped } = chatOf({
      ...base,
      system: 'base prompt',
      messages: [
        { role: 'user', content: 'go' },
        { role: 'system', content: [{ type: 'text', text: '# Environment' }, { type: 'text', text: 'cwd: /w' }], output_config: { effort: 'medium' } },
      ],
    });
    assert.deepEqual(dropped, ['field:messages[].output_config']);
    assert.deepEqual(chat.messages, [
      { role: 'system', content: 'base prompt' },
      { role: 'user', content: 'go' },
      { role: 'system', content: '# Environment\ncwd: /w' },
    ]);
  });

  it('refuses what is not a Messages request with a message naming the place', () => {
    const refuses = (body: string, pattern: RegExp, cls: new (...a: never[]) => Error = InvalidArgumentError) =>
      assert.throws(() => messagesToChat(body), (err: unknown) => err instanceof cls && pattern.test((err as Error).message));
    refuses('{"model":', /invalid JSON at line 1/, InvalidJsonError);
    refuses('[1]', /must be a JSON object, not an array/);
    refuses('{"model":"m"}', /messages: must be an array/);
    refuses('{"messages":[{"role":"user","content":[{"text":"no type"}]}]}', /messages\[0\]\.content\[0\]: must be a content block/);
    refuses('{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"x","input":[1]}]}]}', /messages\[0\]\.content\[0\]\.input: must be a JSON object/);
    refuses('{"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}', /tool_use_id: must be a string/);
    refuses('{"messages":[],"system":5}', /system: must be a string or an array/);
    refuses('{"messages":[],"tools":[{"input_schema":{}}]}', /tools\[0\]: must be an object with a non-empty "name"/);
    refuses('{"messages":[],"tools":[{"name":"a"}],"tool_choice":{"type":"some"}}', /tool_choice: type must be/);
  });

  it('refuses a tool input nested deeper than it can translate with a 400, never a crash', () => {
    const input = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    assert.throws(
      () => messagesToChat(`{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"x","input":${input}}]}]}`),
      (err: unknown) => err instanceof InvalidArgumentError && /nests too deeply/.test(err.message),
    );
  });
});
