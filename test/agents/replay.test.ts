/**
 * The agents without installing them: the request bodies and headers Claude Code and Codex really
 * sent (captured in test/agents/fixtures/ by capture/capture.ts) replayed over HTTP to the
 * service, a runtime answering Chat Completions, and each answer checked against what the real
 * agent needs from it (support/agent-expectations.ts). The real-agent tests are the proof; these
 * run in a second and tell which half of a failure is the route's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ModelClient } from '../../src/client/model-client.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { claudeCodeTakes, codexTakes } from './support/agent-expectations.js';
import { contentText, requestMeta, textReply, toolCallReply, type ChatRequest } from './support/agent-session.js';
import { eventsOf, parseSse, readSseBody, type SseItem } from './support/sse-reader.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

interface Fixture {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

const WAIT_MS = 10_000;
/** The service's heartbeat here; a thinking runtime waits several of them. */
const HEARTBEAT_MS = 100;
const THINKING_MS = 700;
/** Headers fetch sets itself (or must not forward). */
const OWN_HEADERS = new Set(['host', 'content-length', 'connection', 'accept-encoding', 'transfer-encoding']);

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as Fixture;
}

/** Sends a captured request as the agent did: same path, query, headers and body. */
function replay(server: RunningServer, captured: Fixture, body: Record<string, any> = captured.body, signal = AbortSignal.timeout(WAIT_MS * 2)): Promise<Response> {
  const headers = Object.fromEntries(Object.entries(captured.headers).filter(([name]) => !OWN_HEADERS.has(name)));
  return fetch(`${server.url}${captured.path}${captured.query ? `?${captured.query}` : ''}`, { method: captured.method, headers, body: JSON.stringify(body), signal });
}

/** The number of request lines in the log. */
function requestLines(server: RunningServer): number {
  return readFileSync(server.config.logFile, 'utf8').split('\n').filter((line) => line.startsWith('LLM_REQUEST_START')).length;
}

/** Resolves once /metrics shows `count` orphaned turns (at most WAIT_MS). */
async function orphanedTurns(server: RunningServer, count: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('rock_model_service_orphaned_turns'));
    if (line !== undefined && Number(line.slice(line.lastIndexOf(' ') + 1)) === count) return;
    if (Date.now() > deadline) throw new Error(`the service did not report ${count} orphaned turn(s) within ${WAIT_MS} ms: ${line}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function streamedEvents(response: Response) {
  assert.equal(response.status, 200, `the route answered ${response.status}: ${await response.clone().text()}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  return eventsOf(parseSse(await readSseBody(response, WAIT_MS)));
}

describe('captured agent requests replayed to the service (no agent install)', function () {
  this.timeout(30_000);
  let server: RunningServer;
  let runtime: ModelClient;
  let dataDir: string;

  beforeEach(async () => {
    dataDir = makeTempDir('agent-replay');
    server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', heartbeatIntervalMs: HEARTBEAT_MS });
    runtime = new ModelClient({ logFile: server.config.logFile });
  });

  afterEach(async () => {
    runtime.close();
    await server.close('test finished');
    removeDir(dataDir);
  });

  /**
   * Waits for request `index` and parses it as Chat Completions; fails at once when the agent's
   * call `call` was refused instead of reaching the log.
   */
  async function nextRequest(index: number, call: Promise<Response>): Promise<ChatRequest> {
    const refused = call.then(async (response) => {
      if (response.ok) return new Promise<never>(() => {});
      throw new Error(`the service answered the replayed call ${response.status} before request ${index} reached the log: ${(await response.text()).slice(0, 500)}`);
    });
    const text = await Promise.race([runtime.popRequest(index, { timeoutMs: WAIT_MS }), refused]);
    assert.notEqual(text, 'SESSION_END');
    const request = JSON.parse(text) as ChatRequest;
    assert.ok(Array.isArray(request.messages), `request ${index} reached the runtime without a Chat Completions messages array: ${text.slice(0, 300)}`);
    return request;
  }

  it('Claude Code: a Bash tool_use turn and a text turn, streamed, as Claude Code needs them', async () => {
    const first = fixture('claude-code-first.json');
    const second = fixture('claude-code-tool-result.json');
    const toolUse = second.body.messages.at(-2).content.find((block: any) => block.type === 'tool_use');

    const call1 = replay(server, first);
    const request1 = await nextRequest(1, call1);
    assert.equal(requestMeta(server.config.logFile, 1).endpoint, '/v1/messages');
    assert.ok(request1.tools?.some((tool) => tool.function?.name === 'Bash'), 'the translated request offers no Bash function');
    assert.ok(request1.messages.some((m) => m.role === 'system' && contentText(m.content).includes('Claude')), 'the system prompt did not become a system message');
    const reply1 = toolCallReply(toolUse.id, toolUse.name, toolUse.input);

    await runtime.pushResponse(1, reply1);
    const turn1 = claudeCodeTakes(await streamedEvents(await call1));
    assert.equal(turn1.stopReason, 'tool_use');
    assert.deepEqual(turn1.content.map((block) => [block.type, block.id, block.name, block.input]), [['tool_use', toolUse.id, toolUse.name, toolUse.input]]);

    const call2 = replay(server, second);
    const request2 = await nextRequest(2, call2);
    const toolMessage = request2.messages.find((m) => m.role === 'tool');
    assert.ok(toolMessage, 'the tool_result did not become a tool message');
    assert.equal(toolMessage.tool_call_id, toolUse.id);
    assert.equal(contentText(toolMessage.content), '(Bash completed with no output)');
    await runtime.pushResponse(2, textReply('done'));
    const turn2 = claudeCodeTakes(await streamedEvents(await call2));
    assert.equal(turn2.stopReason, 'end_turn');
    assert.deepEqual(turn2.content.map((block) => [block.type, block.text]), [['text', 'done']]);
  });

  it('Claude Code: its non-streamed fallback (stream false, max_tokens 64000, sent after a stream fails) gets a Messages object', async () => {
    const first = fixture('claude-code-first.json');
    const call = replay(server, first, { ...first.body, stream: false, max_tokens: 64000 });
    const request = await nextRequest(1, call);
    assert.notEqual(request.stream, true);
    await runtime.pushResponse(1, textReply('plain answer'));
    const response = await call;
    assert.equal(response.status, 200, await response.clone().text());
    const message = (await response.json()) as Record<string, any>;
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.deepEqual(message.content, [{ type: 'text', text: 'plain answer' }]);
    assert.equal(message.stop_reason, 'end_turn');
  });

  it('Claude Code: a request carrying its own thinking block (with signature) back is accepted and translated', async () => {
    const captured = fixture('claude-code-thinking-tool-result.json');
    const call = replay(server, captured);
    const request = await nextRequest(1, call);
    const assistant = request.messages.find((m) => m.role === 'assistant' && Array.isArray(m.tool_calls));
    assert.ok(assistant, 'the assistant turn with thinking and tool_use did not become an assistant message with tool_calls');
    assert.ok(request.messages.some((m) => m.role === 'tool' && m.tool_call_id === 'toolu_capture_1'));
    await runtime.pushResponse(1, textReply('done'));
    claudeCodeTakes(await streamedEvents(await call));
  });

  it('Codex: an exec_command function_call turn and a text turn, streamed, as Codex needs them', async () => {
    const first = fixture('codex-first.json');
    const second = fixture('codex-tool-output.json');
    const call = second.body.input.find((item: any) => item.type === 'function_call');

    const call1 = replay(server, first);
    const request1 = await nextRequest(1, call1);
    assert.equal(requestMeta(server.config.logFile, 1).endpoint, '/v1/responses');
    assert.ok(request1.tools?.some((tool) => tool.function?.name === 'exec_command'), 'the translated request offers no exec_command function');
    assert.ok(!request1.tools?.some((tool) => tool.type !== 'function'), 'a tool that is not a function (web_search?) reached the Chat Completions request');
    assert.ok(request1.messages.some((m) => m.role === 'user' && contentText(m.content).includes('Write the word hello')), 'the user prompt is missing');
    const reply1 = toolCallReply(call.call_id, call.name, JSON.parse(call.arguments));

    await runtime.pushResponse(1, reply1);
    const turn1 = codexTakes(await streamedEvents(await call1));
    assert.deepEqual(turn1.items.map((item) => [item.type, item.call_id, item.name, JSON.parse(item.arguments)]), [['function_call', call.call_id, call.name, JSON.parse(call.arguments)]]);

    const call2 = replay(server, second);
    const request2 = await nextRequest(2, call2);
    const toolMessage = request2.messages.find((m) => m.role === 'tool');
    assert.ok(toolMessage, 'the function_call_output did not become a tool message');
    assert.equal(toolMessage.tool_call_id, call.call_id);
    assert.match(contentText(toolMessage.content), /Process exited with code 0/);
    await runtime.pushResponse(2, textReply('done'));
    const turn2 = codexTakes(await streamedEvents(await call2));
    assert.deepEqual(turn2.items.map((item) => [item.type, item.role, item.content?.map((part: any) => part.text).join('')]), [['message', 'assistant', 'done']]);
  });

  /** Replays `captured`, lets the runtime think for THINKING_MS, answers, and returns the stream's items (comments included). */
  async function thinkingRuntimeStream(captured: Fixture): Promise<SseItem[]> {
    const call = replay(server, captured);
    await nextRequest(1, call);
    await new Promise((resolve) => setTimeout(resolve, THINKING_MS));
    await runtime.pushResponse(1, textReply('done'));
    const response = await call;
    assert.equal(response.status, 200, await response.clone().text());
    return parseSse(await readSseBody(response, WAIT_MS));
  }

  it('Claude Code: while the runtime thinks, pings or comments (any byte resets its 300 s idle abort) come before message_start', async () => {
    const items = await thinkingRuntimeStream(fixture('claude-code-first.json'));
    const start = items.findIndex((item) => item.kind === 'event' && item.event === 'message_start');
    assert.ok(start >= 0, `no message_start: ${JSON.stringify(items).slice(0, 500)}`);
    const before = items.slice(0, start);
    assert.ok(before.length >= 3, `only ${before.length} heartbeat(s) in ${THINKING_MS} ms at one per ${HEARTBEAT_MS} ms`);
    // Held back until the answer is there: a call Claude Code drops (its stream watchdog, ~600 s) after message_start
    // comes back non-streamed, with other bytes, as a new turn; before it, the same bytes re-attach.
    assert.ok(before.every((item) => item.kind === 'comment' || item.event === 'ping'), `before message_start only pings or comments: ${JSON.stringify(before)}`);
    claudeCodeTakes(eventsOf(items));
  });

  it('Codex: while the runtime thinks, events (Codex ignores comments) come after response.created (the openai SDK refuses any event before it)', async () => {
    const items = await thinkingRuntimeStream(fixture('codex-first.json'));
    const events = items.filter((item) => item.kind === 'event');
    assert.equal(events[0]?.kind === 'event' && events[0].event, 'response.created', `the first event must be response.created: ${JSON.stringify(items.slice(0, 3))}`);
    const firstItem = events.findIndex((item) => item.kind === 'event' && item.event === 'response.output_item.added');
    const heartbeats = events.slice(1, firstItem < 0 ? undefined : firstItem);
    assert.ok(heartbeats.length >= 3, `only ${heartbeats.length} event(s) between response.created and the answer in ${THINKING_MS} ms at one heartbeat per ${HEARTBEAT_MS} ms: Codex would count only events toward its idle timeout`);
    codexTakes(eventsOf(items));
  });

  /** The agent's call dropped while the runtime thinks, then sent again as `retryBody`: one turn, answered on the retry. */
  async function dropThenRetry(captured: Fixture, retryBody: Record<string, any>): Promise<SseItem[]> {
    const dropped = new AbortController();
    const call1 = replay(server, captured, captured.body, dropped.signal);
    await nextRequest(1, call1);
    dropped.abort();
    await call1.then((response) => response.body?.cancel()).catch(() => {});
    await orphanedTurns(server, 1);
    const call2 = replay(server, captured, retryBody);
    await runtime.pushResponse(1, textReply('done'));
    const response = await call2;
    assert.equal(response.status, 200, await response.clone().text());
    const items = parseSse(await readSseBody(response, WAIT_MS));
    assert.equal(requestLines(server), 1, 'the retry became a second request line instead of re-attaching to its turn');
    return items;
  }

  it('Claude Code: its streamed retry after a dropped call (the same bytes, as measured) re-attaches to the turn', async () => {
    const captured = fixture('claude-code-first.json');
    claudeCodeTakes(eventsOf(await dropThenRetry(captured, captured.body)));
  });

  it('Codex: its retry after a dropped call (the same JSON, client_metadata in another order, as measured) re-attaches to the turn', async () => {
    const captured = fixture('codex-first.json');
    const reordered = Object.fromEntries(Object.entries(captured.body.client_metadata).reverse());
    assert.notEqual(JSON.stringify(reordered), JSON.stringify(captured.body.client_metadata));
    codexTakes(eventsOf(await dropThenRetry(captured, { ...captured.body, client_metadata: reordered })));
  });

  it('Codex: a request carrying its reasoning item (encrypted_content) back is accepted and translated', async () => {
    const captured = fixture('codex-reasoning-tool-output.json');
    const call = replay(server, captured);
    const request = await nextRequest(1, call);
    assert.ok(request.messages.some((m) => m.role === 'tool' && m.tool_call_id === 'call_capture_1'));
    await runtime.pushResponse(1, textReply('done'));
    codexTakes(await streamedEvents(await call));
  });
});
