/**
 * The runtime of the RL-loop demo: the trainer's side. It sets up a sandbox, installs and starts
 * the model service in it, launches the agent there, and then plays the model: each
 * `antiCallLlm` hands the previous reply to the agent and returns the agent's next request,
 * until the agent exits and the service reports SESSION_END.
 */
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
// In your own project: import { LocalSandbox, ModelService } from 'rock-model-service';
import { LocalSandbox, ModelService, shellQuote } from '../../dist/index.js';
import { policy, type ChatRequest } from './policy.js';

const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const started = Date.now();
const say = (line: string): void => console.log(line);
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(2)} s`;

/** A port the OS says is free now: listen on 0, read the number, close. */
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

function describeRequest(request: ChatRequest): string {
  const last = request.messages.at(-1);
  return `${last?.role ?? '?'}: ${JSON.stringify(last?.content ?? '')}`;
}

const port = await freePort();
const sandbox = new LocalSandbox();
const service = new ModelService(sandbox, {
  // This checkout already provides `rock` (LocalSandbox puts it on PATH), so install only checks
  // it is there; in a real sandbox keep the default `npm install -g rock-model-service@<version>`.
  installCmd: 'command -v rock',
  startCmd: `rock model-service start --type \${type} --host 127.0.0.1 --port ${port}`,
  loggingPath: `${sandbox.workDir}/logs`,
});

// Ctrl-C: kill the command in flight so the session unwinds through `finally` below and
// leaves no service, agent or temporary directory behind.
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
  say(`rl-loop: sandbox ${sandbox.workDir}`);
  await service.install();
  await service.start();
  say(`rl-loop: model service started on http://127.0.0.1:${port} (${elapsed()})`);

  await sandbox.upload({ content: 'alpha\nbeta\ngamma\n' }, 'notes.txt');
  const launch = await sandbox.run(
    `nohup ${shellQuote(process.execPath)} --import ${shellQuote(TSX)} ${shellQuote(AGENT)} > agent.log 2>&1 & echo $!`,
    { timeoutMs: 10_000, env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: 'local' } },
  );
  agentPid = Number(launch.stdout.trim());
  await service.watchAgent(agentPid);
  say(`rl-loop: agent started in the sandbox (pid ${agentPid}); the service watches it`);

  let index = 0;
  let response: string | undefined;
  for (let turn = 1; ; turn++) {
    interrupted.signal.throwIfAborted();
    const turnStarted = Date.now();
    const output = await service.antiCallLlm(index, response, { callTimeout: 30 });
    const call = `turn ${turn} · antiCallLlm(index ${index}${response ? ', reply' : ''})`;
    const waited = `${Date.now() - turnStarted} ms`;
    if (output === 'SESSION_END') {
      say(`${call} → SESSION_END: the agent exited and the service ended the session (${waited})`);
      break;
    }
    index += 1;
    const request = JSON.parse(output) as ChatRequest;
    const reply = policy(request, index);
    say(`${call} → request ${index}, ${describeRequest(request)} (${waited})`);
    say(`    runtime's reply ${index}: ${reply.summary}`);
    response = reply.response;
  }

  const agentLog = (await sandbox.run('cat agent.log', { timeoutMs: 5000 })).stdout;
  say('rl-loop: the agent\'s own log, from the sandbox:');
  for (const line of agentLog.trimEnd().split('\n')) say(`  ${line}`);
  exitCode = /^agent: final answer: /m.test(agentLog) ? 0 : 1;
  if (exitCode !== 0) say('rl-loop: the agent did not reach its final answer (see its log above)');
} catch (error) {
  if (!interrupted.signal.aborted) throw error;
  say(`rl-loop: interrupted by ${String(interrupted.signal.reason)}; stopping the service and removing the sandbox`);
  exitCode = 130;
} finally {
  // On a failure the agent may still be waiting for a reply; on success it is already gone.
  if (agentPid) await sandbox.run(`kill ${agentPid} 2>/dev/null`, { timeoutMs: 5000 });
  await service.stop();
  await sandbox.close();
}
say(`rl-loop: service stopped, sandbox removed; ${elapsed()} in all`);
process.exitCode = exitCode;
