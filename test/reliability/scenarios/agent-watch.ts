/**
 * The watched agent: a zombie, a pid that never existed, a live pid watched twice. Each must
 * end the session with exactly one SESSION_END line, fail the waiting call with a 500, and
 * refuse later calls.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatBody, postChat } from '../support/agent.js';
import { processState } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { exited } from '../support/processes.js';
import { eventually, percentile, sleep, tempDir } from '../support/project.js';
import { startServiceProcess } from '../support/service-process.js';

export type WatchCase = 'zombie' | 'never existed' | 'live pid watched twice, then killed' | 'zombie watched twice';

export interface AgentWatchParams {
  /** Rounds; each round runs every case on a fresh service. */
  rounds: number;
  /** How long to keep watching after the first SESSION_END for a second one. */
  settleMs: number;
}

const CASES: readonly WatchCase[] = ['zombie', 'never existed', 'live pid watched twice, then killed', 'zombie watched twice'];

/** A process whose child has exited unreaped: returns the zombie's pid and the parent to kill. */
async function makeZombie(): Promise<{ pid: number; parent: ReturnType<typeof spawn> }> {
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  parent.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const pid = await eventually('the zombie pid', () => (out.includes('\n') ? Number(out.trim()) : undefined));
  await eventually(`pid ${pid} to be a zombie`, () => (processState(pid) === 'Z' ? true : undefined), 5000);
  return { pid, parent };
}

/** A pid above the kernel's pid_max: no process can ever have it. */
function impossiblePid(): number {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) + 1;
}

const countSessionEnds = (log: string): number => readFileSync(log, 'latin1').split('\n').filter((l) => l.trimEnd() === 'SESSION_END').length;

/** Runs the scenario; returns its figures (lost = sessions that did not end with exactly one SESSION_END, or a call left hanging). */
export async function agentWatch(params: AgentWatchParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const detection: number[] = [];
  let lost = 0;
  let sessions = 0;
  for (let round = 0; round < params.rounds; round++) {
    for (const watchCase of CASES) {
      const dir = tempDir('watch');
      const service = await startServiceProcess({ dataDir: dir.path });
      const log = join(dir.path, 'LLMService.log');
      const parents: ReturnType<typeof spawn>[] = [];
      try {
        sessions++;
        const pending = postChat(service.url, chatBody('waiting'), { timeoutMs: 15_000 }).catch((e: Error) => ({ status: -1, body: e.message }));
        await eventually('the waiting request line', () => (readFileSync(log, 'latin1').includes('LLM_REQUEST_START') ? true : undefined));
        const watch = async (pid: number): Promise<void> => {
          const r = await postChat(service.url, JSON.stringify({ pid }), { path: '/v1/agent/watch' });
          findings.check(r.status === 200, `${watchCase}: watch of ${pid} answered ${r.status} ${r.body}`);
        };
        let t0 = performance.now();
        if (watchCase === 'zombie' || watchCase === 'zombie watched twice') {
          const zombie = await makeZombie();
          parents.push(zombie.parent);
          t0 = performance.now();
          await watch(zombie.pid);
          if (watchCase === 'zombie watched twice') await watch(zombie.pid);
        } else if (watchCase === 'never existed') {
          await watch(impossiblePid());
        } else {
          const agent = spawn('sleep', ['600'], { stdio: 'ignore' });
          parents.push(agent);
          await watch(agent.pid!);
          await watch(agent.pid!);
          await sleep(300);
          findings.check(countSessionEnds(log) === 0, `${watchCase}: SESSION_END written while the agent still ran`);
          t0 = performance.now();
          agent.kill('SIGKILL');
        }
        await eventually(`${watchCase}: SESSION_END`, () => (countSessionEnds(log) > 0 ? true : undefined), 10_000, 10).catch(() => undefined);
        detection.push(performance.now() - t0);
        const answer = await pending;
        findings.check(answer.status === 500, `${watchCase}: the waiting call got ${answer.status} ${answer.body.slice(0, 100)}, want 500`);
        await sleep(params.settleMs);
        const after = await postChat(service.url, chatBody('after the end'), { timeoutMs: 5000 }).catch((e: Error) => ({ status: -1, body: e.message }));
        findings.check(after.status === 500, `${watchCase}: a call after the session ended got ${after.status}, want 500 at once`);
        const ends = countSessionEnds(log);
        if (!findings.check(ends === 1 && answer.status === 500, `${watchCase}: ${ends} SESSION_END lines, want exactly 1`)) lost++;
      } finally {
        for (const p of parents) {
          p.kill('SIGKILL');
          await exited(p);
        }
        await service.stop();
        dir.cleanup();
      }
    }
  }
  return {
    scenario: 'Agent watch',
    load: `${sessions} sessions, one waiting call each`,
    faults: `${params.rounds}x each: zombie agent, pid that never existed (pid_max + 1), live pid watched twice then killed, zombie watched twice`,
    inputs: `${sessions} watched pids, ${sessions * 2} chat calls`,
    lost,
    measured: {
      'time to SESSION_END p50': `${percentile(detection, 50).toFixed(0)} ms`,
      'time to SESSION_END max': `${Math.max(...detection).toFixed(0)} ms`,
    },
    violations: findings.violations,
    seconds: (performance.now() - started) / 1000,
  };
}
