/**
 * Writes the log of a tool-using agent session the way the service and the runtime do: each
 * request repeats the whole conversation (system, task, then assistant tool calls and tool
 * results), each response is a Chat Completions answer, meta with Python's separators. When
 * the history passes `compactAt` bytes the agent compacts it (keeps system, task and the last
 * exchange), as long-running agents do, so a big log holds many turns of realistic size.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { formatMeta } from '../../../src/protocol/lines.js';

export interface AgentSessionOptions {
  turns: number;
  /** Bytes of each tool result. */
  toolOutputBytes: number;
  /** Compact the history when it passes this many bytes (default: never). */
  compactAt?: number;
  /** Meta endpoint of every request (default: none, i.e. /v1/chat/completions). */
  endpoint?: string;
  /** Epoch ms of the first request; each turn takes `turnMs` (default 1500 + a bit per turn). */
  startMs?: number;
  sessionEnd?: boolean;
}

const escapeMarkers = (json: string): string => json.replace(/SESSION_END|LLM_RE(QUEST|SPONSE)_(START|END)/g, (m) => m.replace('_', '\\u005f'));

/** Deterministic filler text of `bytes` characters, lines of about 80. */
export function filler(seed: number, bytes: number): string {
  const words = ['src/index.ts', 'passing', 'failing', 'expected', 'received', 'at Object.<anonymous>', 'npm', 'test', 'function', 'return', '42', 'ok'];
  let out = '';
  let i = seed;
  while (out.length < bytes) {
    out += words[i % words.length] + ((i * 7) % 13 === 0 ? '\n' : ' ');
    i = (i * 1103515245 + 12345) % 2147483647;
  }
  return out.slice(0, bytes);
}

/** Appends the session to `path` (created or truncated) and returns the bytes written. */
export function writeAgentSession(path: string, options: AgentSessionOptions): number {
  const fd = openSync(path, 'w');
  const start = options.startMs ?? 1_764_000_000_000;
  const meta = (index: number, ms: number): string => formatMeta(index, ms, options.endpoint);
  const head = [
    escapeMarkers(JSON.stringify({ role: 'system', content: 'You are a coding agent. Use the bash tool. Never print SESSION_END yourself.' })),
    JSON.stringify({ role: 'user', content: 'Make the test suite pass.' }),
  ];
  let history: string[] = [...head];
  let historyBytes = 0;
  let written = 0;
  let pending: string[] = [];
  const flush = (): void => {
    const chunk = Buffer.from(pending.join(''), 'utf8');
    writeSync(fd, chunk);
    written += chunk.length;
    pending = [];
  };
  try {
    let clock = start;
    for (let turn = 1; turn <= options.turns; turn++) {
      const request = `{"model":"agent-model","messages":[${history.join(',')}],"tools":[{"type":"function","function":{"name":"bash","parameters":{"type":"object"}}}]}`;
      pending.push(`LLM_REQUEST_START${request}LLM_REQUEST_END${meta(turn, clock)}\n`);
      clock += 1000 + (turn % 7) * 250;
      const last = turn === options.turns;
      const callId = `call_${turn}`;
      const message = last
        ? { role: 'assistant', content: 'All tests pass.' }
        : { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: 'bash', arguments: JSON.stringify({ command: `npm test -- --grep case${turn}` }) } }] };
      const response = JSON.stringify({
        id: `chatcmpl-${turn}`,
        object: 'chat.completion',
        model: 'agent-model',
        choices: [{ index: 0, message, finish_reason: last ? 'stop' : 'tool_calls' }],
        usage: { prompt_tokens: 1000 + turn, completion_tokens: 20, total_tokens: 1020 + turn },
      });
      pending.push(`LLM_RESPONSE_START${response}LLM_RESPONSE_END${meta(turn, clock)}\n`);
      clock += 200;
      const toolResult = JSON.stringify({ role: 'tool', tool_call_id: callId, content: filler(turn, options.toolOutputBytes) });
      const added = [JSON.stringify(message), toolResult];
      history.push(...added);
      historyBytes += added[0]!.length + added[1]!.length;
      if (options.compactAt !== undefined && historyBytes > options.compactAt) {
        history = [...head, ...added];
        historyBytes = added[0]!.length + added[1]!.length;
      }
      if (pending.length >= 64) flush();
    }
    if (options.sessionEnd !== false) pending.push('SESSION_END\n');
    flush();
  } finally {
    closeSync(fd);
  }
  return written;
}
