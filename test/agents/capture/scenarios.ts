/**
 * The capture scenarios: each asks one question about a real agent (what it sends, which answer it
 * accepts, how it retries, what keeps its stream alive) and says how the recording server answers.
 */
import type { ServerResponse } from 'node:http';
import { CLAUDE_SHELL_TOOL, CODEX_SHELL_ARGUMENT, CODEX_SHELL_TOOL } from '../support/agent-runs.js';
import type { RecordedRequest, RecordingHandler } from '../support/recording-server.js';
import {
  heartbeat,
  messagesFrames,
  messagesObject,
  responsesFrames,
  withoutEvents,
  writeFrames,
  writeJson,
  type Frame,
  type MessagesBlock,
  type ResponsesItem,
} from '../support/sse-frames.js';

export interface ScenarioContext {
  note(line: string): void;
}

export interface Scenario {
  name: string;
  agent: 'claude' | 'codex';
  question: string;
  prompt: string;
  timeoutMs: number;
  env?: Record<string, string>;
  /** Extra lines for Codex's model provider table. */
  codexProvider?: Record<string, string | number>;
  handler(context: ScenarioContext): RecordingHandler;
  /** Fixture file name → which recorded request it keeps. */
  fixtures?: Record<string, (requests: RecordedRequest[]) => RecordedRequest | undefined>;
  /** Files in the agent's working dir whose content the result reports. */
  filesToReport?: string[];
}

const CLAUDE_FILE = 'claude.txt';
const CODEX_FILE = 'codex.txt';
const CLAUDE_PROMPT = `Write the word hello into ${CLAUDE_FILE}, then say done.`;
const CODEX_PROMPT = `Write the word hello into ${CODEX_FILE}, then say done.`;

type Json = Record<string, any>;

/** True when the Messages request's last message carries a tool_result (the agent ran our tool). */
function hasToolResult(body: Json): boolean {
  const last = body.messages?.at(-1);
  return Array.isArray(last?.content) && last.content.some((block: Json) => block.type === 'tool_result');
}

/** True when the Responses request's input carries a function_call_output. */
function hasFunctionOutput(body: Json): boolean {
  return Array.isArray(body.input) && body.input.some((item: Json) => item.type === 'function_call_output');
}

function claudeBlocks(body: Json, withThinking = false): MessagesBlock[] {
  if (hasToolResult(body)) return [{ type: 'text', text: 'done' }];
  const tool: MessagesBlock = { type: 'tool_use', id: 'toolu_capture_1', name: CLAUDE_SHELL_TOOL, input: { command: `echo hello > ${CLAUDE_FILE}`, description: 'Write hello to the file' } };
  return withThinking ? [{ type: 'thinking', thinking: 'I will write the file with echo.', signature: 'c2lnbmF0dXJlLWZyb20tcmVjb3JkZXI=' }, tool] : [tool];
}

function codexItems(body: Json, withReasoning = false): ResponsesItem[] {
  if (hasFunctionOutput(body)) return [{ type: 'message', text: 'done' }];
  const call: ResponsesItem = { type: 'function_call', callId: 'call_capture_1', name: CODEX_SHELL_TOOL, arguments: JSON.stringify({ [CODEX_SHELL_ARGUMENT]: `echo hello > ${CODEX_FILE}` }) };
  return withReasoning ? [{ type: 'reasoning', summary: 'Write the file with echo.', encryptedContent: 'ZW5jcnlwdGVkLWZyb20tcmVjb3JkZXI=' }, call] : [call];
}

/** Side routes both agents might call: answered plausibly so they never decide the outcome. */
function sideRoute(request: RecordedRequest, res: ServerResponse): boolean {
  if (request.path.endsWith('/messages/count_tokens')) {
    writeJson(res, 200, { input_tokens: 42 });
    return true;
  }
  if (request.path.endsWith('/models')) {
    const data = [{ id: 'claude-opus-5-5', object: 'model', type: 'model', created: 1_700_000_000, created_at: '2026-01-01T00:00:00Z', owned_by: 'recorder', display_name: 'recorder' }];
    writeJson(res, 200, { object: 'list', data, has_more: false, first_id: data[0]!.id, last_id: data[0]!.id });
    return true;
  }
  return false;
}

interface TurnShape {
  /** Rewrites the frames of the `attempt`-th model call (1-based, side routes not counted). */
  frames?(frames: Frame[], attempt: number, body: Json): Frame[];
  /** Answers the call itself instead (a status, a dropped connection); return true when it did. */
  answer?(res: ServerResponse, attempt: number, body: Json): boolean | Promise<boolean>;
  thinking?: boolean;
}

/** How one agent API is answered: its route, its 404, and a good answer to a call as frames or (non-streamed) an object. */
interface ModelApi {
  path: string;
  notFound: Json;
  frames(body: Json, thinking: boolean): Frame[];
  object?(body: Json, thinking: boolean): Json;
}

const MESSAGES_API: ModelApi = {
  path: '/v1/messages',
  notFound: { type: 'error', error: { type: 'not_found_error', message: 'not here' } },
  frames: (body, thinking) => messagesFrames(body.model, claudeBlocks(body, thinking)),
  object: (body, thinking) => messagesObject(body.model, claudeBlocks(body, thinking)),
};

const RESPONSES_API: ModelApi = {
  path: '/v1/responses',
  notFound: { error: { message: 'not here', type: 'invalid_request_error', code: null } },
  frames: (body, thinking) => responsesFrames(body.model, codexItems(body, thinking)),
};

/** Answers the agent's model calls in `api`, numbering them (side routes not counted) and shaping each as `shape` says. */
function modelHandler(api: ModelApi, context: ScenarioContext, shape: TurnShape = {}): RecordingHandler {
  let attempt = 0;
  return async (request, res) => {
    if (sideRoute(request, res)) return;
    if (request.path !== api.path) return writeJson(res, 404, api.notFound);
    const body = request.body as Json;
    const thisAttempt = ++attempt;
    res.once('close', () => {
      if (!res.writableFinished) context.note(`attempt ${thisAttempt}: the agent closed the connection before the answer ended`);
    });
    if (shape.answer && (await shape.answer(res, thisAttempt, body))) return;
    if (!body.stream) {
      context.note(`attempt ${thisAttempt}: non-streamed request`);
      if (api.object) return writeJson(res, 200, api.object(body, shape.thinking ?? false));
    }
    const frames = api.frames(body, shape.thinking ?? false);
    await writeFrames(res, shape.frames ? shape.frames(frames, thisAttempt, body) : frames);
  };
}

const anthropicError = (status: number): Json => ({
  type: 'error',
  error: { type: status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : status === 400 ? 'invalid_request_error' : 'api_error', message: `recorder answers ${status}` },
});
const openaiError = (status: number): Json => ({ error: { message: `recorder answers ${status}`, type: status === 400 ? 'invalid_request_error' : 'server_error', code: null } });

/** Frames with `inserted` placed right after the first frame whose event is `after` (or first when `after` is undefined). */
function insertAfter(frames: Frame[], after: string | undefined, inserted: Frame[]): Frame[] {
  const at = after === undefined ? 0 : frames.findIndex((frame) => 'event' in frame && frame.event === after) + 1;
  return [...frames.slice(0, at), ...inserted, ...frames.slice(at)];
}

const firstRequest = (path: string) => (requests: RecordedRequest[]) => requests.find((r) => r.path === path);
const lastRequest = (path: string) => (requests: RecordedRequest[]) => requests.filter((r) => r.path === path).at(-1);

const claude = (name: string, question: string, shape: TurnShape, extra: Partial<Scenario> = {}): Scenario => ({
  name: `cc-${name}`,
  agent: 'claude',
  question,
  prompt: CLAUDE_PROMPT,
  timeoutMs: 180_000,
  handler: (context) => modelHandler(MESSAGES_API, context, shape),
  filesToReport: [CLAUDE_FILE],
  ...extra,
});

const codex = (name: string, question: string, shape: TurnShape, extra: Partial<Scenario> = {}): Scenario => ({
  name: `cx-${name}`,
  agent: 'codex',
  question,
  prompt: CODEX_PROMPT,
  timeoutMs: 180_000,
  handler: (context) => modelHandler(RESPONSES_API, context, shape),
  filesToReport: [CODEX_FILE],
  ...extra,
});

/** Always `status` (with `headers`), counting the attempts: how often and how fast does the agent retry? */
function statusScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const status of [400, 404, 429, 500, 502, 503, 504, 529]) {
    for (const [suffix, headers] of [
      ['', {}],
      ['-no-retry', { 'x-should-retry': 'false' }],
      ...(status === 400 ? [['-retry', { 'x-should-retry': 'true' }] as const] : []),
    ] as const) {
      out.push(
        claude(`status-${status}${suffix}`, `Claude Code against ${status} ${JSON.stringify(headers)}: attempts, delays, exit status, message`, {
          answer: (res) => (writeJson(res, status, anthropicError(status), headers), true),
        }, { timeoutMs: 600_000 }),
        codex(`status-${status}${suffix}`, `Codex against ${status} ${JSON.stringify(headers)}: attempts, delays, exit status, message`, {
          answer: (res) => (writeJson(res, status, openaiError(status), headers), true),
        }, { timeoutMs: 600_000 }),
      );
    }
  }
  out.push(
    claude('status-500-once', 'one 500, then good answers: does the run still succeed?', {
      answer: (res, attempt) => attempt === 1 && (writeJson(res, 500, anthropicError(500)), true),
    }),
    codex('status-500-once', 'one 500, then good answers: does the run still succeed?', {
      answer: (res, attempt) => attempt === 1 && (writeJson(res, 500, openaiError(500)), true),
    }),
  );
  return out;
}

const KEEP_ALIVE: Frame = { comment: 'keep-alive' };
const PING: Frame = { event: 'ping', data: { type: 'ping' } };

export const scenarios: Scenario[] = [
  // What they send.
  claude('tool-turns', 'two turns (Bash tool_use, then text): every request, headers and bodies', {}, {
    fixtures: { 'claude-code-first.json': firstRequest('/v1/messages'), 'claude-code-tool-result.json': lastRequest('/v1/messages') },
  }),
  claude('thinking-tool-turns', 'a thinking block with a signature before the tool_use: how does it come back?', { thinking: true }, {
    fixtures: { 'claude-code-thinking-tool-result.json': lastRequest('/v1/messages') },
  }),
  codex('tool-turns', 'two turns (exec_command function_call, then text): every request, headers and bodies', {}, {
    fixtures: { 'codex-first.json': firstRequest('/v1/responses'), 'codex-tool-output.json': lastRequest('/v1/responses') },
  }),
  codex('reasoning-tool-turns', 'a reasoning item with encrypted_content before the call: how does it come back?', { thinking: true }, {
    fixtures: { 'codex-reasoning-tool-output.json': lastRequest('/v1/responses') },
  }),

  // Which Messages event sequences Claude Code accepts.
  claude('no-ping', 'the stream without its ping event', { frames: (f) => withoutEvents(f, 'ping') }),
  claude('no-content-block-start', 'deltas without content_block_start', { frames: (f) => withoutEvents(f, 'content_block_start') }),
  claude('no-content-block-stop', 'blocks never stopped', { frames: (f) => withoutEvents(f, 'content_block_stop') }),
  claude('no-message-delta', 'no message_delta (no stop_reason, no output usage)', { frames: (f) => withoutEvents(f, 'message_delta') }),
  claude('no-message-stop', 'the stream ends after message_delta', { frames: (f) => withoutEvents(f, 'message_stop') }),
  claude('no-message-start', 'no message_start', { frames: (f) => withoutEvents(f, 'message_start') }),
  claude('ping-before-start', 'pings (every 1 s, 5 s) before message_start', { frames: (f) => [...heartbeat(PING, 1000, 5), ...f] }),
  claude('comments-before-start', 'SSE comments (every 1 s, 15 s) before message_start', { frames: (f) => [...heartbeat(KEEP_ALIVE, 1000, 15), ...f] }),
  claude('comments-after-start', 'SSE comments (every 1 s, 15 s) after message_start', { frames: (f) => insertAfter(f, 'message_start', heartbeat(KEEP_ALIVE, 1000, 15)) }),
  claude('error-event-overloaded-once', 'event: error (overloaded_error) after message_start on the first call, good answers after', {
    frames: (f, attempt) => (attempt === 1 ? [f[0]!, { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'recorder: overloaded' } } }] : f),
  }),
  claude('error-event-api-always', 'event: error (api_error) after message_start, every time', {
    frames: (f) => [f[0]!, { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'recorder: the session has ended' } } }],
  }, { timeoutMs: 600_000 }),
  claude('error-event-invalid-always', 'event: error (invalid_request_error) after message_start, every time', {
    frames: (f) => [f[0]!, { event: 'error', data: { type: 'error', error: { type: 'invalid_request_error', message: 'recorder: bad runtime answer' } } }],
  }, { timeoutMs: 600_000 }),
  claude('error-event-then-500-no-retry', 'event: error (api_error) in the stream, and 500 with x-should-retry: false for a non-streamed call: how many calls?', {
    answer: (res, _attempt, body) => !body.stream && (writeJson(res, 500, anthropicError(500), { 'x-should-retry': 'false' }), true),
    frames: (f) => [f[0]!, { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'recorder: the session has ended' } } }],
  }),
  claude('error-event-first', 'event: error as the first event (before message_start), then good non-streamed answers', {
    frames: (f, attempt) => (attempt === 1 ? [{ event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'recorder: timed out waiting for the runtime' } } }] : f),
  }),
  claude('no-nonessential-flag', 'without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: what else reaches the base URL?', {}, { env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '' } }),
  claude('truncated-once', 'the first stream ends after one delta, no stop events', {
    frames: (f, attempt) => (attempt === 1 ? f.slice(0, 4) : f),
  }),

  // Which Responses event sequences Codex accepts.
  codex('no-created', 'without response.created', { frames: (f) => withoutEvents(f, 'response.created') }),
  codex('no-in-progress', 'without response.in_progress', { frames: (f) => withoutEvents(f, 'response.in_progress') }),
  codex('no-item-added', 'without response.output_item.added', { frames: (f) => withoutEvents(f, 'response.output_item.added') }),
  codex('no-content-part', 'without content_part.added/done', { frames: (f) => withoutEvents(f, 'response.content_part.added', 'response.content_part.done') }),
  codex('no-deltas', 'without output_text / arguments deltas and their .done', {
    frames: (f) => withoutEvents(f, 'response.output_text.delta', 'response.output_text.done', 'response.function_call_arguments.delta', 'response.function_call_arguments.done'),
  }),
  codex('no-item-done', 'without response.output_item.done (items only in response.completed)', { frames: (f) => withoutEvents(f, 'response.output_item.done') }),
  codex('no-completed', 'the stream ends without response.completed', { frames: (f) => withoutEvents(f, 'response.completed') }, { timeoutMs: 600_000 }),
  codex('completed-no-usage', 'response.completed without usage', {
    frames: (f) => f.map((frame) => ('event' in frame && frame.event === 'response.completed' ? { ...frame, data: { ...frame.data, response: { ...(frame.data.response as Json), usage: undefined } } } : frame)),
  }),
  codex('failed-event-always', 'response.failed (server_error) after response.created, every time', {
    frames: (f) => [f[0]!, { event: 'response.failed', data: { type: 'response.failed', sequence_number: 1, response: { ...(f[0] as Json).data.response, status: 'failed', error: { code: 'server_error', message: 'recorder: the session has ended' } } } }],
  }, { timeoutMs: 600_000 }),
  codex('error-event-always', 'event: error after response.created, every time', {
    frames: (f) => [f[0]!, { event: 'error', data: { type: 'error', sequence_number: 1, code: 'server_error', message: 'recorder: the session has ended', param: null } }],
  }, { timeoutMs: 600_000 }),
  codex('failed-context-length', 'response.failed with code context_length_exceeded: retried?', {
    frames: (f) => [f[0]!, { event: 'response.failed', data: { type: 'response.failed', sequence_number: 1, response: { ...(f[0] as Json).data.response, status: 'failed', error: { code: 'context_length_exceeded', message: 'recorder: too long' } } } }],
  }),
  codex('failed-first', 'response.failed as the first event (no response.created), every time', {
    frames: () => [{ event: 'response.failed', data: { type: 'response.failed', sequence_number: 0, response: { id: 'resp_failed', object: 'response', status: 'failed', error: { code: 'server_error', message: 'recorder: the session has ended' } } } }],
  }, { timeoutMs: 600_000 }),
  codex('truncated-once', 'the first stream ends after response.created', { frames: (f, attempt) => (attempt === 1 ? f.slice(0, 2) : f) }),

  // What keeps Codex's stream alive (idle timeout cut to 5 s for the question; the default is 300 s).
  codex('idle-silent', 'nothing for 15 s after response.created (idle timeout 5 s)', { frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'response.created', [{ pauseMs: 15_000 }]) : f) }, { codexProvider: { stream_idle_timeout_ms: 5000 } }),
  codex('idle-comments', 'SSE comments every 1 s for 15 s after response.created (idle timeout 5 s)', { frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'response.created', heartbeat(KEEP_ALIVE, 1000, 15)) : f) }, { codexProvider: { stream_idle_timeout_ms: 5000 } }),
  codex('idle-comments-before-created', 'SSE comments every 1 s for 15 s before any event (idle timeout 5 s)', { frames: (f, attempt) => (attempt === 1 ? [...heartbeat(KEEP_ALIVE, 1000, 15), ...f] : f) }, { codexProvider: { stream_idle_timeout_ms: 5000 } }),
  codex('idle-in-progress', 'response.in_progress every 1 s for 15 s (idle timeout 5 s)', {
    frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'response.created', heartbeat(f[1]!, 1000, 15)) : f),
  }, { codexProvider: { stream_idle_timeout_ms: 5000 } }),
  codex('idle-unknown-event', 'an unknown event type every 1 s for 15 s (idle timeout 5 s)', {
    frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'response.created', heartbeat({ event: 'keepalive', data: { type: 'keepalive' } }, 1000, 15)) : f),
  }, { codexProvider: { stream_idle_timeout_ms: 5000 } }),

  codex('idle-long-in-progress', 'response.in_progress every 10 s for 11 min, default settings: is there a cap on a whole answer?', {
    frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'response.created', heartbeat(f[1]!, 10_000, 66)) : f),
  }, { timeoutMs: 900_000 }),

  // What keeps Claude Code's stream alive: its watchdogs are minutes long, so these take a while.
  claude('idle-silent-after-start', 'nothing for 11 min after message_start', { frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'message_start', [{ pauseMs: 660_000 }]) : f) }, { timeoutMs: 900_000 }),
  claude('idle-ping-after-start', 'a ping every 10 s for 11 min after message_start', { frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'message_start', heartbeat(PING, 10_000, 66)) : f) }, { timeoutMs: 900_000 }),
  claude('idle-comments-after-start', 'an SSE comment every 10 s for 11 min after message_start', { frames: (f, attempt) => (attempt === 1 ? insertAfter(f, 'message_start', heartbeat(KEEP_ALIVE, 10_000, 66)) : f) }, { timeoutMs: 900_000 }),
  claude('idle-comments-before-start', 'an SSE comment every 10 s for 11 min before message_start', { frames: (f, attempt) => (attempt === 1 ? [...heartbeat(KEEP_ALIVE, 10_000, 66), ...f] : f) }, { timeoutMs: 900_000 }),
  claude('idle-ping-before-start', 'a ping every 10 s for 11 min before message_start', { frames: (f, attempt) => (attempt === 1 ? [...heartbeat(PING, 10_000, 66), ...f] : f) }, { timeoutMs: 900_000 }),
  claude('idle-ping-before-start-api-timeout', 'a ping every 10 s for 11 min before message_start, with API_TIMEOUT_MS=900000', { frames: (f, attempt) => (attempt === 1 ? [...heartbeat(PING, 10_000, 66), ...f] : f) }, { timeoutMs: 900_000, env: { API_TIMEOUT_MS: '900000' } }),
  claude('idle-ping-before-start-no-watchdog', 'a ping every 10 s for 11 min before message_start, with CLAUDE_ENABLE_STREAM_WATCHDOG=0', { frames: (f, attempt) => (attempt === 1 ? [...heartbeat(PING, 10_000, 66), ...f] : f) }, { timeoutMs: 900_000, env: { CLAUDE_ENABLE_STREAM_WATCHDOG: '0' } }),
  claude('idle-ping-before-start-idle-900', 'a ping every 10 s for 11 min before message_start, with CLAUDE_STREAM_IDLE_TIMEOUT_MS=900000', { frames: (f, attempt) => (attempt === 1 ? [...heartbeat(PING, 10_000, 66), ...f] : f) }, { timeoutMs: 900_000, env: { CLAUDE_STREAM_IDLE_TIMEOUT_MS: '900000' } }),
  claude('idle-headers-only', 'headers, then no byte for 11 min', { frames: (f, attempt) => (attempt === 1 ? [{ pauseMs: 660_000 }, ...f] : f) }, { timeoutMs: 900_000 }),

  ...statusScenarios(),
];
