import assert from 'node:assert/strict';
import { InvalidArgumentError, UnknownResponseError } from '../../src/errors.js';
import { responsesToChat } from '../../src/wire/responses-request.js';
import { ResponsesStore } from '../../src/wire/responses-store.js';

const chatOf = (request: object, store = new ResponsesStore()) => {
  const t = responsesToChat(JSON.stringify(request), store);
  return { chat: JSON.parse(t.chat), dropped: t.dropped, state: t.state };
};

describe('wire: Responses request → Chat Completions request', () => {
  it('one assistant turn (reasoning, message, calls) is one assistant message; the next reasoning opens the next', () => {
    const { chat } = chatOf({
      model: 'm',
      input: [
        { role: 'user', content: 'go' },
        { type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'plan' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Running.' }] },
        { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"cmd":"ls"}' },
        { type: 'function_call', call_id: 'c2', name: 'shell', arguments: '{"cmd":"pwd"}' },
        { type: 'function_call_output', call_id: 'c1', output: 'a b' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '/w' }, { type: 'input_image', image_url: 'data:image/png;base64,AA' }] },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'done' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Both ran.' }] },
      ],
    });
    assert.deepEqual(chat.messages, [
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'Running.',
        reasoning_content: 'plan',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"cmd":"ls"}' } },
          { id: 'c2', type: 'function', function: { name: 'shell', arguments: '{"cmd":"pwd"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'a b' },
      { role: 'tool', tool_call_id: 'c2', content: '/w' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] },
      { role: 'assistant', content: 'Both ran.', reasoning_content: 'done' },
    ]);
  });

  it('freeform tool calls in the history become calls of a function taking {"input"}', () => {
    const { chat } = chatOf({
      model: 'm',
      tools: [{ type: 'custom', name: 'apply_patch', description: 'edit', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } }],
      input: [
        { type: 'custom_tool_call', call_id: 'p1', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output', call_id: 'p1', output: 'applied' },
      ],
    });
    assert.deepEqual(chat.tools[0].function.parameters.required, ['input']);
    assert.match(chat.tools[0].function.description, /^edit\n\nThe input follows this lark grammar:\nstart: "x"$/);
    assert.deepEqual(chat.messages, [
      { role: 'assistant', content: null, tool_calls: [{ id: 'p1', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } }] },
      { role: 'tool', tool_call_id: 'p1', content: 'applied' },
    ]);
  });

  it('tool_choice, text.format, verbosity, user and parallel_tool_calls map across; what chat cannot say is named', () => {
    const tools = [{ type: 'function', name: 'f', parameters: { type: 'object' } }, { type: 'file_search', vector_store_ids: [] }];
    const expect = (choice: unknown, expected: unknown, droppedChoice?: string) => {
      const { chat, dropped } = chatOf({ model: 'm', input: 'x', tools, tool_choice: choice });
      assert.deepEqual(chat.tool_choice, expected, JSON.stringify(choice));
      if (droppedChoice) assert.ok(dropped.includes(droppedChoice), `${droppedChoice} in ${dropped}`);
    };
    expect('required', 'required');
    expect({ type: 'function', name: 'f' }, { type: 'function', function: { name: 'f' } });
    expect({ type: 'allowed_tools', mode: 'required', tools: [] }, 'required', 'tool_choice:allowed_tools');
    expect({ type: 'file_search' }, undefined, 'tool_choice:file_search');
    const { chat, dropped } = chatOf({
      model: 'm',
      input: 'x',
      tools,
      parallel_tool_calls: false,
      safety_identifier: 'u-1',
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true }, verbosity: 'low' },
      prompt_cache_key: 'k',
      conversation: 'conv_1',
    });
    assert.equal(chat.parallel_tool_calls, false);
    assert.equal(chat.user, 'u-1');
    assert.deepEqual(chat.response_format, { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } });
    assert.equal(chat.verbosity, 'low');
    assert.deepEqual(dropped.sort(), ['field:conversation', 'tool:file_search']);
  });

  it('a tool inside a namespace that chat cannot express is left out and named, not refused', () => {
    const { chat, dropped } = chatOf({ model: 'm', input: 'x', tools: [{ type: 'namespace', name: 'ns', tools: [{ type: 'function', name: 'f' }, { type: 'web_search' }] }] });
    assert.deepEqual(chat.tools.map((t: { function: { name: string } }) => t.function.name), ['ns__f']);
    assert.deepEqual(dropped, ['tool:ns.web_search']);
  });

  it('input items the runtime cannot use are left out and named', () => {
    const { chat, dropped } = chatOf({ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }, { type: 'web_search_call', id: 'ws', status: 'completed' }, { role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }, { type: 'input_text', text: 'x' }] }] });
    assert.deepEqual(chat.messages, [{ role: 'user', content: 'x' }]);
    assert.deepEqual(dropped.sort(), ['content:input_file', 'item:item_reference', 'item:web_search_call']);
  });

  it('a previous_response_id the store does not keep is an UnknownResponseError (400) that says why', () => {
    assert.throws(() => chatOf({ model: 'm', input: 'x', previous_response_id: 'resp_gone' }), (err: unknown) => {
      assert.ok(err instanceof UnknownResponseError);
      assert.equal(err.httpStatus, 400);
      assert.equal(err.responseId, 'resp_gone');
      assert.match(err.message, /store: false.*send the whole conversation/);
      return true;
    });
  });

  it('refuses what is not a Responses request with a message naming the place', () => {
    const refuses = (request: object, pattern: RegExp) => assert.throws(() => chatOf(request), (err: unknown) => err instanceof InvalidArgumentError && pattern.test(err.message));
    refuses({ input: 5 }, /input: must be a string or an array/);
    refuses({ input: [{ role: 'robot', content: 'x' }] }, /input\[0\]\.role: must be/);
    refuses({ input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, /input\[0\]: needs a string "call_id"/);
    refuses({ input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: {} }] }, /input\[0\]\.arguments: must be a string/);
    refuses({ input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, /input\[0\]\.content\[0\]\.text: must be a string/);
    refuses({ input: 'x', tools: [{ name: 'no type' }] }, /tools\[0\]: must be an object with a string "type"/);
    refuses({ input: 'x', tools: [{ type: 'namespace', name: 'n', tools: [{ name: 'no type' }] }] }, /tools\[0\]\.tools\[0\]: must be an object with a string "type"/);
    refuses({ input: 'x', previous_response_id: 5 }, /previous_response_id: must be a string/);
  });
});
