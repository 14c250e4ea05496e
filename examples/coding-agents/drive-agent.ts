/**
 * The runtime of the coding-agent examples (claude-code/, codex/): it installs the pinned agent
 * (once, into a cache under the system temp dir), starts the model service in a LocalSandbox with
 * ModelService, launches the agent there against it, has the service watch the agent, and then
 * plays the model with scripted replies. Each request it prints is what a trainer reads: the
 * agent's own API call, translated by the service into Chat Completions.
 */
import { createServer } from 'node:net';
// In your own project: import { LocalSandbox, ModelService, shellQuote } from 'rock-model-service';
import { LocalSandbox, ModelService, shellQuote } from '../../dist/index.js';
// Test-time helpers of this repository: the pinned install cache, and how each agent is launched.
import { installAgent, type AgentPackage } from '../../test/support/agent-install.js';

/** The parts of a Chat Completions request the example prints. */
export interface ChatRequest {
  model?: string;
  messages: Array<{ role: string; content?: unknown; tool_calls?: Array<{ function: { name: string; arguments: string } }> }>;
  tools?: unknown[];
  stream?: boolean;
}

export interface ScriptedReply {
  /** One line for the output. */
  summary: string;
  /** The chat.completion JSON text handed to antiCallLlm. */
  response: string;
}

export interface AgentExample {
  /** "Claude Code", "Codex". */
  name: string;
  package: AgentPackage;
  /** The agent's argv and environment, given its binary, the service's root URL, the prompt and a directory it may use as home. */
  launch(binPath: string, serviceUrl: string, prompt: string, home: string): { argv: string[]; env: Record<string, string> };
  /** The agent's shell tool, and the arguments that run `command` with it. */
  shellTool: string;
  shellArguments(command: string): Record<string, unknown>;
  /** The command's own output inside the tool result the agent sends back. */
  commandOutput(toolResult: string): string;
}

/** The file the scripted policy has the agent write, and what goes in it. */
export const FILE = 'haiku.txt';
const HAIKU = 'logs fill line by line / the runtime answers each call / the agent moves on';

/**
 * The scripted policy, a stand-in for the model being trained: the first request gets one shell
 * call that writes the haiku and counts its words; the request carrying the tool result gets the
 * final answer.
 */
export function scriptedReply(example: AgentExample, request: ChatRequest, index: number): ScriptedReply {
  const toolResult = request.messages.find((m) => m.role === 'tool');
  if (!toolResult) {
    const command = `echo '${HAIKU}' > ${FILE} && wc -w < ${FILE}`;
    const call = { id: `call_example_${index}`, type: 'function', function: { name: example.shellTool, arguments: JSON.stringify(example.shellArguments(command)) } };
    return { summary: `tool call ${example.shellTool}(${JSON.stringify(command)})`, response: completion(index, { tool_calls: [call] }, 'tool_calls') };
  }
  const content = `Wrote ${FILE}; wc counts ${example.commandOutput(textOf(toolResult.content)).trim()} words.`;
  return { summary: `final answer ${JSON.stringify(content)}`, response: completion(index, { content }, 'stop') };
}

const say = (line: string): void => console.log(line);

/** One call's worth of request, in a line: the roles, the tool count, and the end of the newest message that is not a system one. */
export function describeRequest(request: ChatRequest): string {
  const roles = request.messages.map((m) => m.role).join(', ');
  const last = request.messages.findLast((m) => m.role !== 'system');
  const text = textOf(last?.content);
  const newest = `${last?.role ?? '?'}: ${JSON.stringify(text.length > 90 ? `…${text.slice(-90)}` : text)}`;
  return `${request.messages.length} messages (${roles}), ${request.tools?.length ?? 0} tools${request.stream ? ', stream' : ''}; newest ${newest}`;
}

/** The text of a Chat Completions content (a string or text parts). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

/** A chat.completion whose message is `message` (tool calls or text). */
function completion(index: number, message: Record<string, unknown>, finishReason: 'tool_calls' | 'stop'): string {
  return JSON.stringify({
    id: `chatcmpl-example-${index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'scripted-policy',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finishReason }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs the example's session start to end; resolves with the process exit status to use. */
export async function driveAgent(example: AgentExample): Promise<number> {
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(2)} s`;
  const agent = await installAgent(example.package, { log: (line) => say(`${example.name}: ${line}`) });
  say(`${example.name}: ${example.package.name}@${example.package.version} at ${agent.binPath}`);

  const port = await freePort();
  const sandbox = new LocalSandbox();
  const service = new ModelService(sandbox, {
    // This checkout provides `rock` (LocalSandbox puts it on PATH); in a real sandbox keep the default install.
    installCmd: 'command -v rock',
    startCmd: `rock model-service start --type \${type} --host 127.0.0.1 --port ${port}`,
    loggingPath: `${sandbox.workDir}/logs`,
  });
  const interrupted = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupted.abort(signal);
      sandbox.killRunning();
    });
  }

  let exitCode = 1;
  let agentPid: number | undefined;
  try {
    say(`${example.name}: sandbox ${sandbox.workDir}`);
    await service.install();
    await service.start();
    say(`${example.name}: model service started on http://127.0.0.1:${port} (${elapsed()})`);

    const run = example.launch(agent.binPath, `http://127.0.0.1:${port}`, `Write a haiku about logs into ${FILE}.`, `${sandbox.workDir}/.agent-home`);
    // The wrapper shell records the agent's exit status and ends right after it, so watching it is watching the agent.
    const launch = await sandbox.run(
      `nohup sh -c '"$@"; echo $? > agent.exit' agent ${run.argv.map(shellQuote).join(' ')} > agent.out 2> agent.err < /dev/null & echo $!`,
      { timeoutMs: 10_000, env: run.env },
    );
    agentPid = Number(launch.stdout.trim());
    await service.watchAgent(agentPid);
    say(`${example.name}: agent started in the sandbox (pid ${agentPid}); the service watches it`);

    let index = 0;
    let response: string | undefined;
    for (let turn = 1; turn <= 10; turn++) {
      interrupted.signal.throwIfAborted();
      const output = await service.antiCallLlm(index, response, { callTimeout: 120 });
      if (output === 'SESSION_END') {
        say(`turn ${turn} · SESSION_END: ${example.name} exited and the service ended the session (${elapsed()})`);
        break;
      }
      index += 1;
      const request = JSON.parse(output) as ChatRequest;
      say(`turn ${turn} · request ${index}, ${describeRequest(request)}`);
      const reply = scriptedReply(example, request, index);
      say(`    runtime's reply ${index}: ${reply.summary}`);
      response = reply.response;
    }

    const show = async (command: string): Promise<string> => (await sandbox.run(command, { timeoutMs: 5000 })).stdout.trim();
    const agentExit = await show('cat agent.exit 2>/dev/null');
    say(`${example.name}: exited ${agentExit || '(unknown)'}; it printed: ${JSON.stringify(await show('cat agent.out'))}`);
    say(`${example.name}: ${FILE} in the sandbox: ${JSON.stringify(await show(`cat ${FILE} 2>/dev/null`))}`);
    if (index === 0) say(`${example.name}: no request reached the runtime; the agent's stderr: ${JSON.stringify((await show('cat agent.err')).slice(-800))}`);
    exitCode = agentExit === '0' && index > 0 ? 0 : 1;
  } catch (error) {
    if (!interrupted.signal.aborted) throw error;
    say(`${example.name}: interrupted by ${String(interrupted.signal.reason)}; stopping the service and removing the sandbox`);
    exitCode = 130;
  } finally {
    // On a failure the agent may still wait for a reply (on success it is gone): end it and its wrapper.
    if (agentPid) await sandbox.run(`pkill -P ${agentPid} 2>/dev/null; kill ${agentPid} 2>/dev/null; true`, { timeoutMs: 5000 });
    await service.stop();
    await sandbox.close();
  }
  say(`${example.name}: service stopped, sandbox removed; ${elapsed()} in all`);
  return exitCode;
}
