/**
 * Issue 14, break 9: several `start`s at once on one data dir, each from its own working
 * directory (so each has its own pid file), with a config file that takes a while to read.
 * Before the fix every one of them exited 0 and ran: two services appended request lines with
 * the same index to one log, and one answer reached two agents. Now exactly one must run; the
 * others must exit 1 naming its pid; the one log must hold each index once.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { chatBody, postChat, replyBody } from '../support/agent.js';
import { freePort, rock, type CliPlace } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { serviceProcessesIn } from '../support/proc.js';
import { percentile, sleep, tempDir } from '../support/project.js';

export interface RacingStartsParams {
  rounds: number;
  /** Starts launched at once per round, each from its own working directory. */
  starters: number;
  /** Size of the config file each start reads (YAML; at most 1 MiB is accepted). */
  configBytes: number;
}

/** A valid config of about `bytes` bytes: many proxy rules (unused in local mode), which YAML and the schema both have to walk. */
function slowConfig(bytes: number): string {
  const rules: string[] = [];
  for (let size = 0, i = 0; size < bytes - 64; i++) {
    const line = `  model-${i}: http://127.0.0.1:9/v1\n`;
    rules.push(line);
    size += line.length;
  }
  return `type: local\nproxy_rules:\n${rules.join('')}`;
}

/** Runs the scenario; returns its figures (lost = extra services that ran, or calls answered with another's reply). */
export async function racingStarts(params: RacingStartsParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const dir = tempDir('racing-starts');
  const dataDir = join(dir.path, 'data');
  const config = join(dir.path, 'config.yaml');
  writeFileSync(config, slowConfig(params.configBytes));
  const places: CliPlace[] = Array.from({ length: params.starters }, (_, i) => {
    const cwd = join(dir.path, `cwd-${i}`);
    mkdirSync(cwd);
    return { cwd, dataDir };
  });
  const cwds = places.map((p) => p.cwd);
  const startMs: number[] = [];
  const refusedMs: number[] = [];
  let lost = 0;
  try {
    for (let round = 0; round < params.rounds; round++) {
      const ports = await Promise.all(places.map(() => freePort()));
      const results = await Promise.all(places.map((place, i) => rock(place, ['start', '--host', '127.0.0.1', '--port', String(ports[i]), '--config-file', config], 60_000)));
      const winners = results.map((r, i) => ({ r, i })).filter(({ r }) => r.code === 0);
      await sleep(300);
      const running = serviceProcessesIn(cwds);
      if (!findings.check(winners.length === 1 && running.length === 1, `round ${round}: ${winners.length} starts exited 0 and ${running.length} services run`)) lost += Math.max(0, winners.length - 1, running.length - 1);
      const winner = winners[0];
      if (winner === undefined) {
        findings.check(false, `round ${round}: no start succeeded: ${results.map((r) => r.stderr.trim()).join(' | ').slice(0, 300)}`);
        continue;
      }
      startMs.push(winner.r.ms);
      const pid = readFileSync(join(cwds[winner.i]!, 'data', 'cli', 'model', 'pid.txt'), 'utf8').trim();
      for (const [i, r] of results.entries()) {
        if (i === winner.i || r.code === 0) continue;
        refusedMs.push(r.ms);
        findings.check(r.code === 1 && new RegExp(`in use by the model service pid ${pid}\\b`).test(r.stderr), `round ${round}: a losing start exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`);
      }
      // Calls through the winner, and through any other that answers: one log, each index once.
      const client = new ModelClient({ logFile: join(dataDir, 'LLMService.log') });
      try {
        const calls = winners.map(({ i }) => postChat(`http://127.0.0.1:${ports[i]}`, chatBody(`round-${round}-via-${i}`), { timeoutMs: 10_000 }).catch((e: Error) => ({ status: -1, body: e.message })));
        for (let index = 1; index <= winners.length; index++) {
          const request = await client.popRequest(index, { timeoutMs: 5000 }).catch(() => '');
          await client.pushResponse(index, replyBody(`reply-to-${/round-\d+-via-\d+/.exec(request)?.[0] ?? 'nothing'}`)).catch(() => undefined);
        }
        for (const [n, call] of (await Promise.all(calls)).entries()) {
          const own = `reply-to-round-${round}-via-${winners[n]!.i}`;
          if (!findings.check(call.status === 200 && call.body.includes(own), `round ${round}: the call through start ${winners[n]!.i} got ${call.status} ${call.body.slice(0, 100)}`)) lost++;
        }
        const indexes = readFileSync(join(dataDir, 'LLMService.log'), 'latin1').match(/LLM_REQUEST_END\{"timestamp": \d+, "index": \d+/g) ?? [];
        findings.check(new Set(indexes.map((m) => m.slice(m.lastIndexOf(' ') + 1))).size === indexes.length, `round ${round}: the log holds a request index twice`);
      } finally {
        client.close();
      }
      for (const place of places) await rock(place, ['stop'], 30_000);
      await sleep(200);
      findings.check(serviceProcessesIn(cwds).length === 0, `round ${round}: a service still runs after stop in every working dir`);
    }
    return {
      scenario: 'Racing starts on one data dir',
      load: `${params.rounds} rounds of ${params.starters} starts at once`,
      faults: `${params.starters} working dirs (so ${params.starters} pid files), one data dir, a ${(params.configBytes / 1024).toFixed(0)} KiB config file each start parses`,
      inputs: 'rock model-service start, then a call through every start that succeeded',
      lost,
      measured: {
        'start that ran': `p50 ${percentile(startMs, 50).toFixed(0)} / max ${Math.max(...startMs).toFixed(0)} ms`,
        'starts refused': `${refusedMs.length}, p50 ${percentile(refusedMs, 50).toFixed(0)} / max ${Math.max(0, ...refusedMs).toFixed(0)} ms`,
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const place of places) await rock(place, ['stop'], 30_000);
    for (const pid of serviceProcessesIn(cwds)) process.kill(pid, 'SIGKILL');
    dir.cleanup();
  }
}
