/**
 * Issue 14, break 2: the data dir is deleted under a loaded service and re-created. Before the
 * fix, request lines went to the deleted file, agents hung with no error, and the service never
 * came back. Now every call must end (its own reply, or 503 RMS_LOG_UNAVAILABLE while the dir is
 * gone), none may get another call's reply, and turns must go on once the dir is back.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { chatBody, health, postChat, replyBody } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { startPollingRuntime } from '../support/polling-runtime.js';
import { percentile, sleep } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export interface LogGoneParams {
  /** Agents calling in a loop, each one call at a time. */
  agents: number;
  /** Delete-and-re-create cycles. */
  cycles: number;
  /** How long the dir stays deleted. */
  outageMs: number;
  /** How long the load runs between outages (and before the first, after the last). */
  steadyMs: number;
  /** A call that takes longer than this counts as a hang. */
  hangMs: number;
}

type Phase = 'steady' | 'outage' | 'recovering';

/** Runs the scenario; returns its figures (lost = calls that hung, or got another call's reply). */
export async function logGone(params: LogGoneParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('log-gone');
  const { service, log } = session;
  const dataDir = session.dir.path;
  const runtime = startPollingRuntime(log, (payload) => replyBody(`reply-${/"content":"(tag-[\d-]+)"/.exec(payload)?.[1] ?? '?'}`));
  let phase: Phase = 'steady';
  let running = true;
  let lost = 0;
  const counts: Record<string, number> = {};
  const count = (key: string): void => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const latencies: number[] = [];
  const unavailableMs: number[] = [];
  let recoveredAt: number | undefined;
  const agent = async (id: number): Promise<void> => {
    for (let n = 0; running; n++) {
      const tag = `tag-${id}-${n}`;
      const during = phase;
      const result = await postChat(service.url, chatBody(tag), { timeoutMs: params.hangMs }).catch((e: Error) => ({ status: -1, body: e.message, ms: params.hangMs, at: 0 }));
      latencies.push(result.ms);
      if (result.status === 200) {
        if (!findings.check(result.body.includes(`"reply-${tag}"`), `call ${tag} got ${result.body.slice(0, 100)}`)) lost++;
        count(`200 (${during})`);
        if (phase === 'recovering' && recoveredAt === undefined) recoveredAt = performance.now();
      } else if (result.status === 503 && result.body.includes('RMS_LOG_UNAVAILABLE')) {
        count(`503 RMS_LOG_UNAVAILABLE (${during})`);
        unavailableMs.push(result.ms);
        await sleep(20);
      } else {
        lost++;
        findings.check(false, `call ${tag} (${during}) ended with ${result.status} ${result.body.slice(0, 160)} after ${result.ms.toFixed(0)} ms`);
      }
    }
  };
  const recovery: number[] = [];
  try {
    const agents = Array.from({ length: params.agents }, (_, i) => agent(i));
    await sleep(params.steadyMs);
    for (let cycle = 0; cycle < params.cycles; cycle++) {
      phase = 'outage';
      // Moved away first, as one step: under load the service re-creates its log in a dir that
      // still exists, between the unlinks of a recursive delete and its rmdir (ENOTEMPTY).
      renameSync(dataDir, `${dataDir}.gone`);
      rmSync(`${dataDir}.gone`, { recursive: true, force: true });
      await sleep(params.outageMs);
      findings.check((await health(service.url)) === 200, `cycle ${cycle}: /health stopped answering while the dir was gone`);
      mkdirSync(dataDir);
      const back = performance.now();
      recoveredAt = undefined;
      phase = 'recovering';
      await sleep(params.steadyMs);
      if (findings.check(recoveredAt !== undefined, `cycle ${cycle}: no call was answered in the ${params.steadyMs} ms after the dir came back`)) recovery.push(recoveredAt! - back);
      phase = 'steady';
    }
    running = false;
    await Promise.all(agents);
    findings.check(service.child.exitCode === null, `the service exited (${service.child.exitCode})`);
    const answered = Object.entries(counts).filter(([k]) => k.startsWith('200')).reduce((sum, [, v]) => sum + v, 0);
    const refused = Object.entries(counts).filter(([k]) => k.startsWith('503')).reduce((sum, [, v]) => sum + v, 0);
    findings.check(refused > 0, 'no call was refused while the dir was gone (did the outage happen?)');
    return {
      scenario: 'Data dir deleted under load',
      load: `${params.agents} agents calling in a loop, a runtime answering; ${latencies.length} calls`,
      faults: `${params.cycles}x the data dir deleted (rm -rf) for ${params.outageMs} ms, then re-created (mkdir)`,
      inputs: 'chat calls before, during and after each outage',
      lost,
      measured: {
        'answered 200': answered,
        'refused 503 RMS_LOG_UNAVAILABLE': refused,
        'by phase': Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', '),
        '503 answered in (p50 / max)': `${percentile(unavailableMs, 50).toFixed(0)} / ${Math.max(0, ...unavailableMs).toFixed(0)} ms`,
        'call p99 / max': `${percentile(latencies, 99).toFixed(0)} / ${Math.max(...latencies).toFixed(0)} ms`,
        'first 200 after the dir came back': recovery.map((ms) => `${ms.toFixed(0)} ms`).join(', '),
        'runtime appends that failed while the dir was gone': runtime.failedAppends,
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    running = false;
    await runtime.stop();
    mkdirSync(dataDir, { recursive: true });
    await session.close();
  }
}
