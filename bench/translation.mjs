#!/usr/bin/env node
// Question: what does translating an agent API add to a turn, beside the Chat Completions path?
// One turn = the agent's request made into the request line's payload, then the runtime's
// chat.completion made into the agent's answer: a final object (plain) or the API's event
// stream (streamed, local mode: the completion cut into chunks, each pushed through the
// translator). The chat path does what local mode does for /v1/chat/completions: compact the
// body, return the reply (plain) or its chunk events (streamed). A last column times proxy
// mode's streaming: 300 upstream chunks (text, reasoning and tool-argument fragments) pushed one
// by one, per chunk (the opening and closing events, which repeat the request for Responses, included).
// Requests are shaped like the captured ones (docs/agent-apis.md): Claude Code's (12 tools,
// about 32 KB of tool definitions, a 7.5 KB system prompt in three blocks, a system message per
// turn, 50 messages of thinking, text, tool_use and tool_result) and Codex's (12 tools with a
// namespace and web_search, a developer prompt, 50 items of reasoning, function calls and
// outputs). Medians of 15 batches of 40 turns, after a warm-up.
// The translators are internal (the bundle does not export them), so they are loaded from the
// sources through tsx. Usage: node bench/translation.mjs
import { cpus, loadavg } from 'node:os';
import { register } from 'tsx/esm/api';

register();
const wire = (file) => import(new URL(`../src/wire/${file}`, import.meta.url).href);
const { createAgentApis } = await wire('agent-apis.ts');
const { completionToAgentStream } = await wire('agent-api.ts');
const { completionToEventStream } = await wire('chat-chunks.ts');

const words = (n, seed) => Array.from({ length: n }, (_, i) => ['the', 'file', 'run', 'tests', 'config', 'error', 'value', 'path', 'change', 'output'][(i * 7 + seed) % 10]).join(' ');
const schema = (i) => ({
  type: 'object',
  properties: Object.fromEntries(Array.from({ length: 6 }, (_, k) => [`param_${k}`, { type: k % 2 ? 'integer' : 'string', description: words(25, i + k) }])),
  required: ['param_0'],
  additionalProperties: false,
});
const TOOL_NAMES = ['Agent', 'Bash', 'Edit', 'ListAgents', 'Read', 'ReportFindings', 'ScheduleWakeup', 'Skill', 'ToolSearch', 'Workflow', 'mcp__github__create_pull_request_with_a_rather_long_descriptive_name', 'Write'];

function claudeCodeRequest() {
  const tools = TOOL_NAMES.map((name, i) => ({ name, description: words(350, i), input_schema: schema(i) }));
  const messages = [{ role: 'user', content: [{ type: 'text', text: `<system-reminder>${words(120, 1)}</system-reminder>` }, { type: 'text', text: 'Fix the failing test.' }] }];
  messages.push({ role: 'system', content: [{ type: 'text', text: `# Environment\n${words(200, 2)}` }] });
  for (let turn = 0; messages.length < 50; turn++) {
    messages.push({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: words(60, turn), signature: '' },
        { type: 'text', text: words(30, turn + 3) },
        { type: 'tool_use', id: `toolu_${turn}`, name: TOOL_NAMES[turn % 12], input: { param_0: words(12, turn), param_1: 12345678901234567890 + turn } },
      ],
    });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${turn}`, content: words(250, turn + 5), is_error: turn % 9 === 0 }] });
  }
  messages.at(-1).content.at(-1).cache_control = { type: 'ephemeral' };
  return JSON.stringify({
    model: 'claude-opus-5-5',
    max_tokens: 32000,
    stream: true,
    thinking: { type: 'adaptive' },
    output_config: { effort: 'medium' },
    metadata: { user_id: '{"session_id":"d2ea6957"}' },
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.328' },
      { type: 'text', text: 'You are a Claude agent.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: words(1300, 9) },
    ],
    tools,
    messages,
  });
}

function codexRequest() {
  const fn = (name, i) => ({ type: 'function', name, description: words(350, i), strict: false, parameters: schema(i) });
  const tools = [
    ...['exec_command', 'write_stdin', 'request_user_input', 'view_image', 'get_goal', 'create_goal', 'update_goal'].map(fn),
    { type: 'namespace', name: 'multi_agent_v1', description: 'Tools in the multi_agent_v1 namespace.', tools: ['close_agent', 'resume_agent', 'send_input', 'spawn_agent', 'wait_agent'].map(fn) },
    { type: 'web_search', external_web_access: false },
  ];
  const input = [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: words(1300, 9) }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: `<environment_context>${words(120, 1)}</environment_context>` }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Fix the failing test.' }] },
  ];
  for (let turn = 0; input.length < 50; turn++) {
    input.push({ type: 'reasoning', summary: [{ type: 'summary_text', text: words(60, turn) }], content: null, encrypted_content: null });
    input.push({ type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: words(12, turn) }).replace('}', `,"n":12345678901234567890}`), call_id: `call_${turn}` });
    input.push({ type: 'function_call_output', call_id: `call_${turn}`, output: words(250, turn + 5) });
  }
  return JSON.stringify({ model: 'gpt-5.1-codex', stream: true, input, tools, tool_choice: 'auto', parallel_tool_calls: true, reasoning: { summary: 'auto' }, store: false, include: ['reasoning.encrypted_content'], prompt_cache_key: 'k' });
}

function chatRequest() {
  // The same conversation a runtime would get in Chat Completions form (what the chat path compacts).
  const { chat } = createAgentApis().messages.toChat(claudeCodeRequest());
  return JSON.stringify(JSON.parse(chat), null, 1);
}

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1700000000,
  model: 'policy',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: words(60, 3), reasoning_content: words(120, 4), tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'Bash', arguments: JSON.stringify({ param_0: words(15, 2) }) } }] },
      finish_reason: 'tool_calls',
    },
  ],
  usage: { prompt_tokens: 30000, completion_tokens: 250, total_tokens: 30250 },
});

/** 300 upstream chunks: reasoning, text and argument fragments, then finish and usage. */
function upstreamChunks(toolName) {
  const chunk = (delta, finish = null) => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1700000000, model: 'policy', choices: [{ index: 0, delta, finish_reason: finish }] });
  const out = [];
  for (let i = 0; i < 120; i++) out.push(chunk({ reasoning_content: ` ${words(1, i)}` }));
  for (let i = 0; i < 120; i++) out.push(chunk({ content: ` ${words(1, i + 1)}` }));
  out.push(chunk({ tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: toolName, arguments: '' } }] }));
  out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"param_0":"' } }] }));
  for (let i = 0; i < 54; i++) out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: `${words(1, i)} ` } }] }));
  out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"}' } }] }));
  out.push(chunk({}, 'tool_calls'));
  out.push(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1700000000, model: 'policy', choices: [], usage: { prompt_tokens: 30000, completion_tokens: 250, total_tokens: 30250 } }));
  return out;
}

/** Median µs per call of fn over 15 batches of `n`, after a warm-up. */
function time(fn, n = 40) {
  for (let i = 0; i < n; i++) fn();
  const batches = [];
  for (let b = 0; b < 15; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    batches.push(Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  batches.sort((a, b) => a - b);
  return batches[7];
}

const apis = createAgentApis();
const rows = [];
{
  const body = chatRequest();
  const plain = time(() => apis.chat.toChat(body));
  const streamed = time(() => {
    apis.chat.toChat(body);
    completionToEventStream(COMPLETION);
  });
  const chunks = upstreamChunks('Bash');
  const perChunk = time(() => {
    const s = apis.chat.createStream({});
    for (const c of chunks) s.push(c);
    s.end();
  }, 10) / chunks.length;
  rows.push(['Chat Completions (no translation)', body.length, plain, streamed, perChunk]);
}
for (const [label, api, body] of [
  ['Messages (Claude Code shape)', apis.messages, claudeCodeRequest()],
  ['Responses (Codex shape)', apis.responses, codexRequest()],
]) {
  const plain = time(() => {
    const { state } = api.toChat(body);
    api.fromChat(COMPLETION, state);
  });
  const streamed = time(() => {
    const { state } = api.toChat(body);
    completionToAgentStream(api.createStream(state), COMPLETION);
  });
  const { state } = api.toChat(body);
  const chunks = upstreamChunks('Bash');
  const perChunk = time(() => {
    const s = api.createStream(state);
    s.start();
    for (const c of chunks) s.push(c);
    s.end();
  }, 10) / chunks.length;
  rows.push([label, body.length, plain, streamed, perChunk]);
}

const [base] = rows;
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString().slice(0, 10)}`);
console.log('');
console.log('| path | request bytes | plain turn µs | streamed turn µs | added vs chat (plain / streamed) µs | proxy stream µs per chunk |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [label, bytes, plain, streamed, perChunk] of rows) {
  const added = label === base[0] ? '—' : `${(plain - base[2]).toFixed(0)} / ${(streamed - base[3]).toFixed(0)}`;
  console.log(`| ${label} | ${bytes} | ${plain.toFixed(0)} | ${streamed.toFixed(0)} | ${added} | ${perChunk.toFixed(2)} |`);
}
