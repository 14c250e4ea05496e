/**
 * One whole local-mode session driven through a `rock` program as a sandbox runs it: start in
 * the background, an agent's HTTP chat call, the runtime's `anti-call-llm --index 0` and
 * `--index 1`, `watch-agent` on the agent's pid, the agent's exit ending the session
 * (SESSION_END), `/health` and `/metrics`, and stop. The packaging tests run it through the installed package and the
 * standalone executable.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { collect, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/loopback.js';
import { chatCompletion } from '../helpers/chat-completion.js';

/** How to run the program under test: its argv prefix, its working dir and its whole environment. */
export interface Launcher {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export const REPLY = chatCompletion({ content: 'packed hello' });

function start(launcher: Launcher, args: string[]): ChildProcess {
  return spawn(launcher.command, [...launcher.args, 'model-service', ...args], { cwd: launcher.cwd, env: launcher.env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function run(launcher: Launcher, args: string[]): Promise<CliResult> {
  const result = await collect(start(launcher, args));
  assert.equal(result.code, 0, `rock model-service ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

function call(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs the session; `agentCommand` is the stand-in agent process (it must keep running until
 * killed). Returns the `status` output taken while the service ran.
 * @throws an AssertionError at the first step that does not behave.
 */
export async function runLocalSession(launcher: Launcher, dataDir: string, agentCommand: string[], version: string): Promise<string> {
  const port = await freePort();
  const started = await run(launcher, ['start', '--host', '127.0.0.1', '--port', String(port)]);
  assert.match(started.stdout, /model service started: pid \d+/);
  let agent: ChildProcess | undefined;
  let status: string;
  let stopped: CliResult;
  try {
    status = (await run(launcher, ['status'])).stdout;
    assert.match(status, /^health: healthy$/m);
    // The bundle writes the version in (there is no package.json beside the executable).
    assert.equal((JSON.parse((await call(port, 'GET', '/health')).body) as { version: string }).version, version);

    const request1 = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'from the packed package' }] });
    const chat = call(port, 'POST', '/v1/chat/completions', request1);
    const first = await run(launcher, ['anti-call-llm', '--index', '0']);
    assert.deepEqual(JSON.parse(first.stdout), JSON.parse(request1));

    agent = spawn(agentCommand[0]!, agentCommand.slice(1), { env: launcher.env, stdio: 'ignore' });
    await once(agent, 'spawn');
    await run(launcher, ['watch-agent', '--pid', String(agent.pid)]);

    // Answers call 1, then waits for request 2, which never comes: the agent's exit ends the session.
    const turn = collect(start(launcher, ['anti-call-llm', '--index', '1', '--response', JSON.stringify(REPLY)]));
    const answered = await chat;
    assert.equal(answered.status, 200, answered.body);
    assert.deepEqual(JSON.parse(answered.body), REPLY);
    agent.kill('SIGKILL');
    const last = await turn;
    assert.equal(last.code, 0, last.stderr);
    assert.equal(last.stdout, 'SESSION_END\n');
    assert.match(readFileSync(join(dataDir, 'LLMService.log'), 'utf8'), /^SESSION_END$/m);
    // The process collectors are a chunk of their own, loaded at the first scrape.
    const metrics = await call(port, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^rock_model_service_requests_total\{.*route="\/v1\/chat\/completions".*\} 1$/m);
    assert.match(metrics.body, /^process_cpu_user_seconds_total /m);
  } finally {
    agent?.kill('SIGKILL');
    stopped = await collect(start(launcher, ['stop']));
  }
  assert.equal(stopped.code, 0, stopped.stderr);
  return status;
}
