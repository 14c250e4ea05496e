/**
 * One session of a real coding agent driven through the service, as an RL runtime drives it: the
 * agent runs inside a LocalSandbox against a service started with `startServer`, `watch-agent`
 * follows its pid, and a scripted runtime answers each (translated) Chat Completions request
 * with ModelClient until the service reports SESSION_END. Every wait is bounded.
 */
import { readFileSync } from 'node:fs';
import { ModelClient } from '../../../src/client/model-client.js';
import type { LocalSandbox } from '../../../src/sandbox/local-sandbox.js';
import type { SandboxRunResult } from '../../../src/sandbox/sandbox.js';
import { shellQuote } from '../../../src/sandbox/shell-quote.js';
import type { RunningServer } from '../../../src/server/index.js';
import { completionText } from '../../helpers/chat-completion.js';

/** The parts of a Chat Completions request the runtime looks at. */
export interface ChatRequest {
  model?: string;
  messages: Array<{ role: string; content?: unknown; tool_call_id?: string; tool_calls?: unknown[] }>;
  tools?: Array<{ type: string; function?: { name: string } }>;
  stream?: boolean;
}

export interface SessionTurn {
  /** The request's JSON text exactly as the runtime read it from the log. */
  text: string;
  request: ChatRequest;
  /** The request line's meta (`index`, `timestamp`, and `endpoint` for an agent-API route). */
  meta: Record<string, unknown>;
}

export interface AgentSessionOptions {
  /** Used in failure messages. */
  agentName: string;
  server: RunningServer;
  sandbox: LocalSandbox;
  /** The agent's argv (binary first); it runs with `exec`, so its pid is the one `watch-agent` follows. */
  argv: string[];
  env: Record<string, string>;
  /** The runtime's Chat Completions answer (a JSON text) to request `turn` (1-based); it may take its time. */
  reply(request: ChatRequest, turn: number): string | Promise<string>;
  /** The session fails when the agent sends more requests than this. Default 6. */
  maxTurns?: number;
  /** Bound on each wait for the next request. Default 90 s. */
  turnTimeoutMs?: number;
  /** Bound on the agent process. Default 180 s. */
  agentTimeoutMs?: number;
}

export interface AgentSessionResult {
  turns: SessionTurn[];
  /** What the last anti-call returned: `SESSION_END` when the session ended as it should. */
  end: string;
  agent: SandboxRunResult;
}

const PID_FILE = '.agent.pid';

/**
 * Runs the session to SESSION_END (or a failure) and returns what the runtime saw and how the agent ended.
 * @throws Error naming the agent and the step when a bounded wait ran out, the agent could not
 *   be watched, or it sent more requests than `maxTurns`.
 */
export async function runAgentSession(options: AgentSessionOptions): Promise<AgentSessionResult> {
  const { sandbox, server, agentName } = options;
  const maxTurns = options.maxTurns ?? 6;
  const turnTimeoutMs = options.turnTimeoutMs ?? 90_000;
  const command = `echo $$ > ${PID_FILE}; exec ${options.argv.map(shellQuote).join(' ')}`;
  let agentDone: SandboxRunResult | undefined;
  const agentRun = sandbox.run(command, { timeoutMs: options.agentTimeoutMs ?? 180_000, env: options.env }).then((result) => (agentDone = result));
  const client = new ModelClient({ logFile: server.config.logFile });
  try {
    const pid = await agentPid(sandbox, () => agentDone, agentName);
    const port = new URL(server.url).port;
    const watch = await sandbox.run(`rock model-service watch-agent --pid ${pid} --host 127.0.0.1 --port ${port}`, { timeoutMs: 15_000 });
    if (watch.exitCode !== 0) throw new Error(`watch-agent for ${agentName} (pid ${pid}) exited ${watch.exitCode}: ${watch.stderr.trim()}`);

    const turns: SessionTurn[] = [];
    let response: string | undefined;
    for (;;) {
      const index = turns.length;
      let text: string;
      try {
        text = await client.antiCallLlm(index, response, { timeoutMs: turnTimeoutMs });
      } catch (error) {
        throw new Error(`the runtime waited ${turnTimeoutMs} ms for request ${index + 1} from ${agentName} and got ${String(error)}; ${describeAgent(agentDone)}`);
      }
      if (text === 'SESSION_END') return { turns, end: text, agent: await agentRun };
      if (turns.length === maxTurns) throw new Error(`${agentName} sent more than ${maxTurns} requests; the last: ${text.slice(0, 500)}`);
      const turn: SessionTurn = { text, request: JSON.parse(text) as ChatRequest, meta: requestMeta(server.config.logFile, index + 1) };
      turns.push(turn);
      response = await options.reply(turn.request, turns.length);
    }
  } finally {
    client.close();
    if (!agentDone) sandbox.killRunning();
    await agentRun;
  }
}

/** Waits (at most 15 s) for the agent's pid file; fails at once when the agent has already exited. */
async function agentPid(sandbox: LocalSandbox, done: () => SandboxRunResult | undefined, agentName: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const pid = Number(readFileSync(sandbox.resolvePath(PID_FILE), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) return pid;
    } catch {
      // Not written yet.
    }
    const result = done();
    if (result) throw new Error(`${agentName} ended before it wrote its pid: ${describeAgent(result)}`);
    if (Date.now() > deadline) throw new Error(`${agentName} did not start within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The meta JSON of request line `index` in the log (empty when the line is not there). */
export function requestMeta(logFile: string, index: number): Record<string, unknown> {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('LLM_REQUEST_START')) continue;
    const meta = JSON.parse(line.slice(line.lastIndexOf('LLM_REQUEST_END') + 'LLM_REQUEST_END'.length)) as Record<string, unknown>;
    if (meta.index === index) return meta;
  }
  return {};
}

/** How the agent ended, for a failure message: its exit status and the tails of its output. */
export function describeAgent(result: SandboxRunResult | undefined): string {
  if (!result) return 'the agent is still running';
  const tail = (text: string): string => JSON.stringify(text.trim().slice(-600));
  return `the agent exited ${result.exitCode ?? result.signal}${result.timedOut ? ' (killed: its time bound passed)' : ''}; stdout ${tail(result.stdout)}; stderr ${tail(result.stderr)}`;
}

/** The text of a Chat Completions message's content (a string or text parts). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

/** A Chat Completions answer with one tool call. */
export function toolCallReply(id: string, name: string, args: Record<string, unknown>): string {
  return completionText({ content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] }, 'tool_calls');
}

/** A Chat Completions answer with a final text. */
export function textReply(text: string): string {
  return completionText({ content: text });
}
