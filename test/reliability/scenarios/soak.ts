/**
 * Many sequential turns with large requests (the whole conversation travels every turn):
 * the service's memory must stay flat and a turn must not get slower as the log grows.
 */
import { statSync } from 'node:fs';
import { chatBody, postChat, replyBody } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { percentile } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export interface SoakParams {
  turns: number;
  requestBytes: number;
  /** Turns run before the start values are taken (JIT, buffers, first allocations). */
  warmup: number;
  /**
   * Largest allowed growth of the service's heap from start to end, and of its RSS from the
   * first half of the run to the second (RSS swings by tens of MiB with 1 MiB buffers, so a
   * single start value is a poor baseline; a leak shows as a second half above the first).
   */
  maxGrowthBytes: number;
  /** Largest allowed ratio of the last tenth's median turn to the first tenth's. */
  maxSlowdown: number;
}

const MiB = 2 ** 20;

/** Runs the scenario; returns its figures (lost = turns whose reply was missing or not its own). */
export async function soak(params: SoakParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('soak');
  const { service, log, client } = session;
  const latency: number[] = [];
  let lost = 0;
  let startMemory: NodeJS.MemoryUsage | undefined;
  const rssByTenth: number[] = [];
  const tenthTurns = Math.max(1, Math.floor(params.turns / 10));
  let runtimeNext: Promise<string> = client.antiCallLlm(0, undefined, { timeoutMs: 60_000 });
  try {
    for (let turn = 1; turn <= params.warmup + params.turns; turn++) {
      if (turn === params.warmup + 1) startMemory = await service.memory();
      const tag = `turn-${turn}`;
      const t0 = performance.now();
      const call = postChat(service.url, chatBody(tag, params.requestBytes), { timeoutMs: 60_000 });
      const request = await runtimeNext;
      const mine = request.includes(`"${tag}"`);
      findings.check(mine, `turn ${turn}: the runtime got ${request.slice(0, 80)}`);
      runtimeNext = client.antiCallLlm(turn, replyBody(`reply-${turn}`), { timeoutMs: 60_000 });
      runtimeNext.catch(() => undefined);
      const reply = await call;
      const ok = reply.status === 200 && reply.body.includes(`"reply-${turn}"`);
      if (!findings.check(ok && mine, `turn ${turn}: the agent got ${reply.status} ${reply.body.slice(0, 80)}`)) lost++;
      if (turn > params.warmup) latency.push(performance.now() - t0);
      if (turn > params.warmup && (turn - params.warmup) % tenthTurns === 0) rssByTenth.push((await service.memory()).rss);
    }
    const endMemory = await service.memory();
    const tenth = Math.max(1, Math.floor(latency.length / 10));
    const firstMedian = percentile(latency.slice(0, tenth), 50);
    const lastMedian = percentile(latency.slice(-tenth), 50);
    const s = startMemory!;
    const half = Math.ceil(rssByTenth.length / 2);
    const firstHalfMax = Math.max(s.rss, ...rssByTenth.slice(0, half));
    const secondHalfMax = Math.max(...rssByTenth.slice(half));
    findings.check(secondHalfMax - firstHalfMax <= params.maxGrowthBytes, `service RSS kept growing: at most ${(firstHalfMax / MiB).toFixed(0)} MiB in the first half of the run, ${(secondHalfMax / MiB).toFixed(0)} MiB in the second`);
    findings.check(endMemory.heapUsed - s.heapUsed <= params.maxGrowthBytes, `service heap grew from ${(s.heapUsed / MiB).toFixed(1)} to ${(endMemory.heapUsed / MiB).toFixed(1)} MiB`);
    findings.check(lastMedian <= firstMedian * params.maxSlowdown, `a turn slowed from ${firstMedian.toFixed(1)} ms (first tenth) to ${lastMedian.toFixed(1)} ms (last tenth)`);
    const logBytes = statSync(log).size;
    return {
      scenario: 'Soak',
      load: `${params.turns} turns (+${params.warmup} warm-up) with ${(params.requestBytes / MiB).toFixed(2)} MiB requests, log ${(logBytes / 2 ** 30).toFixed(2)} GiB at the end`,
      faults: 'none (duration and log growth)',
      inputs: `${params.turns + params.warmup} distinct requests`,
      lost,
      measured: {
        'service RSS start → end': `${(s.rss / MiB).toFixed(0)} → ${(endMemory.rss / MiB).toFixed(0)} MiB`,
        'service RSS by tenth of the run': rssByTenth.map((r) => (r / MiB).toFixed(0)).join(' / ') + ' MiB',
        'service heap used start → end': `${(s.heapUsed / MiB).toFixed(1)} → ${(endMemory.heapUsed / MiB).toFixed(1)} MiB`,
        'turn p50 first tenth → last tenth': `${firstMedian.toFixed(1)} → ${lastMedian.toFixed(1)} ms`,
        'turn p99': `${percentile(latency, 99).toFixed(1)} ms`,
        'turn p50 by tenth of the run': Array.from({ length: 10 }, (_, i) => percentile(latency.slice(i * tenth, (i + 1) * tenth), 50).toFixed(1)).join(' / ') + ' ms',
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await session.close();
  }
}
