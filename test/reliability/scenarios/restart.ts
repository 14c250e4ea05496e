/**
 * The service is killed with SIGKILL mid-session (an agent call and the runtime pending) and
 * started again with the CLI: the old log must be kept as `.prev`, the agent and the runtime
 * must get a clear error rather than a hang, and `start` must see through the stale pid file
 * (the killed service stays a zombie here: PID 1 does not reap orphans).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { chatBody, health, postChat, replyBody } from '../support/agent.js';
import { freePort, processState, rock, spawnRock, type CliPlace } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { exited } from '../support/processes.js';
import { eventually, sleep, tempDir } from '../support/project.js';

export interface RestartParams {
  /** Kill-and-restart cycles. */
  cycles: number;
  /** How long the runtime that waits without --timeout is watched after the restart. */
  watchMs: number;
  /** Also keep a runtime waiting (no --timeout) across the restart and check what it does. */
  runtimeAcrossRestart: boolean;
}

const settle = <T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string; ms?: number }> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: Error) => ({ ok: false as const, error: `${(e.cause as Error | undefined)?.message ?? e.message}` }),
  );

/** Runs the scenario; returns its figures (lost = calls that got someone else's answer, or none and no error). */
export async function restartAfterKill(params: RestartParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const dir = tempDir('restart');
  const findings = new Findings();
  const place: CliPlace = { cwd: dir.path, dataDir: join(dir.path, 'data') };
  const log = join(place.dataDir, 'LLMService.log');
  const pidFile = join(dir.path, 'data', 'cli', 'model', 'pid.txt');
  const measured: Record<string, string | number> = {};
  const note = (key: string, value: string | number): void => {
    measured[key] = measured[key] === undefined || measured[key] === value ? value : `${measured[key]}, ${value}`;
  };
  const leftovers: { kill(signal?: NodeJS.Signals): boolean; exitCode: number | null; signalCode: string | null }[] = [];
  let lost = 0;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const first = await rock(place, ['start', '--host', '127.0.0.1', '--port', String(port)]);
    if (!findings.check(first.code === 0, `the first start failed (${first.code}): ${first.stderr.trim()}`)) throw new Error(first.stderr);
    for (let cycle = 0; cycle < params.cycles; cycle++) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      // A session: turn 1 answered, call 2 waiting when the service dies.
      const call1 = postChat(url, chatBody(`s${cycle}-call-1`));
      const r0 = await rock(place, ['anti-call-llm', '--index', '0', '--timeout', '10']);
      findings.check(r0.code === 0 && r0.stdout.includes(`s${cycle}-call-1`), `anti-call-llm --index 0 printed ${r0.stdout.slice(0, 80)} (${r0.code}) ${r0.stderr}`);
      const call2 = settle(postChat(url, chatBody(`s${cycle}-call-2`), { timeoutMs: 30_000 }));
      const r1 = await rock(place, ['anti-call-llm', '--index', '1', '--response', replyBody('reply-1'), '--timeout', '10']);
      findings.check(r1.code === 0 && r1.stdout.includes(`s${cycle}-call-2`), `anti-call-llm --index 1 printed ${r1.stdout.slice(0, 80)} (${r1.code}) ${r1.stderr}`);
      findings.check((await call1).status === 200, 'call 1 was not answered');
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      const agent = await call2;
      const agentMs = performance.now() - killedAt;
      findings.check(!agent.ok, 'the waiting agent call got an answer from a killed service');
      note('agent call pending at the kill', agent.ok ? `status ${agent.value.status}` : `network error after ${agentMs.toFixed(0)} ms (${agent.error})`);
      await eventually('the killed service to stop answering', async () => ((await health(url)) === 0 ? true : undefined));
      // SIGKILL takes a moment to land (state D while the kernel tears the process down).
      const state = await eventually('the killed service to be gone or a zombie', () => (['Z', 'gone'].includes(processState(pid)) ? processState(pid) : undefined), 5000).catch(() => processState(pid));
      note('killed service state', state === 'Z' ? 'zombie' : state);
      // The runtime answers turn 2 after the kill: with --timeout it must fail clearly.
      const timed = await rock(place, ['anti-call-llm', '--index', '2', '--response', replyBody('reply-2'), '--timeout', '2'], 30_000);
      findings.check(timed.code === 3 && timed.stderr.trim().length > 0, `anti-call-llm with --timeout 2 after the kill exited ${timed.code}: ${timed.stderr.trim()}`);
      note('runtime with --timeout 2 after the kill', `exit ${timed.code} after ${(timed.ms / 1000).toFixed(1)} s: ${timed.stderr.trim().slice(0, 100)}`);
      // A runtime with no --timeout waits across the restart.
      const waiting = params.runtimeAcrossRestart ? spawnRock(place, ['anti-call-llm', '--index', '2', '--response', replyBody('reply-2')]) : undefined;
      if (waiting) leftovers.push(waiting.child);
      await sleep(300);
      const oldLog = readFileSync(log);
      const restart = await rock(place, ['start', '--host', '127.0.0.1', '--port', String(port)]);
      findings.check(restart.code === 0, `start after the kill failed (${restart.code}): ${restart.stderr.trim()}`);
      note('start with the stale pid file', `exit ${restart.code} in ${(restart.ms / 1000).toFixed(2)} s`);
      const newPid = Number(readFileSync(pidFile, 'utf8').trim());
      findings.check(newPid !== pid, 'the pid file still names the killed service');
      const prev = `${log}.prev`;
      findings.check(existsSync(prev) && readFileSync(prev).equals(oldLog), `${prev} does not hold the previous log (${existsSync(prev) ? statSync(prev).size : 'missing'} bytes, want ${oldLog.length})`);
      findings.check(statSync(log).size === 0, 'the new log is not empty at start');
      // The new session: three agent calls. The runtime still waiting for old request 3 must not take new request 3.
      const client = new ModelClient({ logFile: log });
      const fresh = [1, 2, 3].map((i) => postChat(url, chatBody(`s${cycle}-new-${i}`), { timeoutMs: 30_000 }));
      await eventually('the new requests', () => (statSync(log).size > 0 ? true : undefined));
      for (let i = 1; i <= 3; i++) {
        const text = await client.popRequest(i, { timeoutMs: 10_000 });
        findings.check(text.includes(`s${cycle}-new-`), `new-session request ${i} is ${text.slice(0, 60)}`);
      }
      if (waiting) {
        await sleep(params.watchMs);
        const outcome = waiting.child.exitCode !== null ? `exit ${waiting.child.exitCode}: ${waiting.output().trim().slice(0, 160)}` : `still waiting ${params.watchMs} ms after the restart`;
        note('runtime waiting (no --timeout) across the restart', outcome);
        if (waiting.child.exitCode === 0) {
          lost++;
          findings.check(false, `the runtime waiting for old request 3 printed a request of the NEW session: ${waiting.output().slice(0, 120)}`);
        } else {
          findings.check(waiting.child.exitCode !== null, `the runtime waiting for old request 3 got no error after the service restarted with a new log (still waiting after ${params.watchMs} ms): it can only hang until --timeout`);
        }
        waiting.child.kill('SIGKILL');
        await exited(waiting.child);
      }
      for (let i = 1; i <= 3; i++) await client.pushResponse(i, replyBody(`new-reply-${i}`));
      const replies = await Promise.all(fresh);
      replies.forEach((r, i) => findings.check(r.status === 200 && r.body.includes(`new-reply-${i + 1}`), `new-session call ${i + 1} got ${r.status} ${r.body.slice(0, 80)}`));
      client.close();
      if (cycle + 1 < params.cycles) {
        // The next cycle starts a session of its own: a clean stop and start.
        const stopped = await rock(place, ['stop']);
        findings.check(stopped.code === 0, `stop between cycles exited ${stopped.code}: ${stopped.stderr.trim()}`);
        const again = await rock(place, ['start', '--host', '127.0.0.1', '--port', String(port)]);
        findings.check(again.code === 0, `start between cycles exited ${again.code}: ${again.stderr.trim()}`);
      }
    }
    const status = await rock(place, ['status']);
    findings.check(status.code === 0 && /pid/.test(status.stdout), `status after the restarts: ${status.code} ${status.stdout}`);
    const stop = await rock(place, ['stop']);
    findings.check(stop.code === 0 && !existsSync(pidFile), `stop exited ${stop.code}, pid file ${existsSync(pidFile) ? 'left' : 'removed'}`);
    return {
      scenario: 'Restart after SIGKILL',
      load: `${params.cycles} sessions of 2 turns plus 3 calls after each restart, through the CLI (a clean stop and start between cycles)`,
      faults: `${params.cycles} SIGKILL of the service mid-session, stale pid file (zombie), restart`,
      inputs: `agent call and runtime waiting at the kill; runtime with --timeout${params.runtimeAcrossRestart ? ' and without' : ''}`,
      lost,
      measured,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const child of leftovers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (existsSync(pidFile)) await rock(place, ['stop'], 30_000);
    dir.cleanup();
  }
}
