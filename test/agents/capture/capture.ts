/**
 * What the real agents send and accept, measured: runs Claude Code and Codex CLI offline against a
 * recording server, once per scenario (an answer shape, a status, a heartbeat), and writes one
 * JSON result per scenario (exit status, output, every request with its headers and body).
 * docs/agents.md reports the findings; `--fixtures` also refreshes test/agents/fixtures/.
 *
 *   npx tsx test/agents/capture/capture.ts [--fixtures] [--out DIR] [--jobs N] [name-substring…]
 *
 * The long scenarios (idle timeouts, retry backoffs) take minutes; pass a name filter to run a few.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLAUDE_CODE, CODEX, installAgent } from '../../support/agent-install.js';
import { claudeRun, codexRun } from '../support/agent-runs.js';
import { RecordingServer, type RecordedRequest, type RecordingHandler } from '../support/recording-server.js';
import { scenarios, type Scenario } from './scenarios.js';
import { makeTempDir, removeDir } from '../../helpers/temp-dir.js';

export interface ScenarioResult {
  name: string;
  agent: 'claude' | 'codex';
  question: string;
  exitCode: number | null;
  signal: string | null;
  ms: number;
  stdout: string;
  stderr: string;
  requests: RecordedRequest[];
  /** Anything the scenario's handler noted (for example when a client disconnected). */
  notes: string[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { fixtures: { type: 'boolean', default: false }, out: { type: 'string', default: join(tmpdir(), 'rms-agent-capture') }, jobs: { type: 'string', default: '4' } },
});

const FIXTURES = new URL('../fixtures/', import.meta.url);

async function runScenario(scenario: Scenario, bins: { claude: string; codex: string }): Promise<ScenarioResult> {
  const server = await RecordingServer.start();
  const notes: string[] = [];
  const handler: RecordingHandler = scenario.handler({ note: (line) => notes.push(`${Date.now()} ${line}`) });
  server.handler = handler;
  const work = makeTempDir(`capture-${scenario.name}`);
  const cwd = join(work, 'project');
  mkdirSync(cwd, { recursive: true });
  const run =
    scenario.agent === 'claude'
      ? claudeRun(bins.claude, server.url, scenario.prompt, join(work, 'home'), scenario.env)
      : codexRun(bins.codex, `${server.url}/v1`, scenario.prompt, join(work, 'codex-home'), scenario.codexProvider);
  const started = Date.now();
  const child = spawn(run.argv[0]!, run.argv.slice(1), { cwd, env: { ...process.env, ...run.env, ...(scenario.agent === 'codex' ? scenario.env : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => {
    notes.push(`killed after ${scenario.timeoutMs} ms`);
    child.kill('SIGKILL');
  }, scenario.timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('close', (code, sig) => resolve([code, sig])));
  clearTimeout(timer);
  const ms = Date.now() - started;
  await server.close();
  for (const file of scenario.filesToReport ?? []) {
    try {
      notes.push(`file ${file}: ${JSON.stringify(readFileSync(join(cwd, file), 'utf8'))}`);
    } catch {
      notes.push(`file ${file}: missing`);
    }
  }
  removeDir(work);
  return { name: scenario.name, agent: scenario.agent, question: scenario.question, exitCode, signal, ms, stdout, stderr, requests: server.requests, notes };
}

function summary(result: ScenarioResult): string {
  const calls = result.requests.map((r) => `${r.at}ms ${r.method} ${r.path}${r.query ? `?${r.query}` : ''}`).join(', ');
  return `${result.name}: exit ${result.exitCode ?? result.signal} in ${(result.ms / 1000).toFixed(1)} s; ${result.requests.length} request(s): ${calls}\n  stdout: ${JSON.stringify(result.stdout.slice(-300))}\n  stderr: ${JSON.stringify(result.stderr.slice(-300))}${result.notes.length ? `\n  notes: ${result.notes.join(' | ')}` : ''}`;
}

const [claude, codex] = await Promise.all([installAgent(CLAUDE_CODE, { log: console.log }), installAgent(CODEX, { log: console.log })]);
const chosen = scenarios.filter((s) => positionals.length === 0 || positionals.some((p) => s.name.includes(p)));
mkdirSync(values.out!, { recursive: true });
console.log(`capture: ${chosen.length} scenario(s), results in ${values.out}`);
const queue = [...chosen];
const results: ScenarioResult[] = [];
await Promise.all(
  Array.from({ length: Number(values.jobs) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const result = await runScenario(next, { claude: claude.binPath, codex: codex.binPath });
      writeFileSync(join(values.out!, `${result.name}.json`), JSON.stringify(result, null, 2));
      results.push(result);
      console.log(summary(result));
    }
  }),
);

if (values.fixtures) {
  for (const result of results) {
    const scenario = chosen.find((s) => s.name === result.name)!;
    for (const [file, pick] of Object.entries(scenario.fixtures ?? {})) {
      const request = pick(result.requests);
      if (!request) {
        console.log(`fixture ${file}: the scenario sent no matching request`);
        continue;
      }
      const fixture = { method: request.method, path: request.path, query: request.query, headers: request.headers, body: request.body };
      writeFileSync(new URL(file, FIXTURES), `${JSON.stringify(fixture, null, 1)}\n`);
      console.log(`fixture ${file}: ${request.rawBody.length} bytes of body`);
    }
  }
}
