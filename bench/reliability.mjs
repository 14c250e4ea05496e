#!/usr/bin/env node
/**
 * Runs the reliability scenarios of test/reliability/scenarios at report size and prints one
 * markdown table: each scenario, the load held, the faults injected, the inputs tried, and
 * what was lost (the promise is zero), then every broken expectation in words.
 *
 *   node bench/reliability.mjs                # report size (the soak runs 2 000 turns)
 *   node bench/reliability.mjs --full         # the issue's full size (soak: 10 000 turns, ~10 GiB)
 *   node bench/reliability.mjs --only soak,load --out /tmp/reliability.md
 *
 * Needs the built CLI (`npm run build`) for the restart scenario and issue 14's CLI
 * scenarios, root for the disk-full tmpfs (skipped otherwise), and about 2x the soak's log
 * size free under $TMPDIR. The truncated binary needs build/Release (node-gyp, `npm ci`).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const scenarios = (name) => import(new URL(`../test/reliability/scenarios/${name}.ts`, import.meta.url).href);

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const full = values.full;
const MiB = 2 ** 20;

/** Each entry: a key for --only, and how to run it. Known-bug rows show failures of modules under repair. */
const PLAN = [
  ['appenders', async () => (await scenarios('concurrent-appenders')).concurrentAppenders({ lines: 20_000, plan: (await import(new URL('../test/reliability/support/test-lines.ts', import.meta.url).href)).FULL_PLAN })],
  // 0x7ffff000 + 2048 reaches the kernel, which writes 0x7ffff000 bytes and stops; past 2^31 - 1 Node refuses before any write.
  ['oversized', async () => (await scenarios('oversized-line')).oversizedLineAppend({ extra: 2048, withConcurrentWriter: false })],
  ['oversized', async () => (await scenarios('oversized-line')).oversizedLineAppend({ extra: 2048, withConcurrentWriter: true })],
  ['oversized', async () => (await scenarios('oversized-line')).oversizedLineAppend({ extra: 4096, withConcurrentWriter: false })],
  ['torn', async () => (await scenarios('torn-writes')).tornWrites({ lines: 2000, maxChunk: 512, maxPauseMs: 1 })],
  ['truncation', async () => (await scenarios('truncation')).truncationAndReplacement({ rounds: 20, hangMs: 10_000, storm: 5000 })],
  ['restart', async () => (await scenarios('restart')).restartAfterKill({ cycles: 5, watchMs: 2000, runtimeAcrossRestart: true })],
  ['watch', async () => (await scenarios('agent-watch')).agentWatch({ rounds: 5, settleMs: 2500 })],
  ['load', async () => (await scenarios('load')).concurrentLoad({ requests: 1000, scanner: 'native' })],
  ['load', async () => (await scenarios('load')).concurrentLoad({ requests: 1000, scanner: 'ts' })],
  ['soak', async () => (await scenarios('soak')).soak({ turns: full ? 10_000 : 2000, requestBytes: MiB, warmup: 50, maxGrowthBytes: 48 * MiB, maxSlowdown: 2 })],
  ['hostile', async () => (await scenarios('hostile-input')).hostileInput({ randomInputs: 500, nestingDepth: 1_000_000, numberDigits: 1_000_000, seed: 20261125, badResponsePayloads: true })],
  ['hostile', async () => (await scenarios('hostile-input')).badLineInBatch()],
  ['diskfull', async () => (await scenarios('disk-full')).diskFull({ tmpfsBytes: 16 * MiB, cycles: 20, bigBytes: MiB })],
  // Issue 14: each break and degradation, at the size the issue found it.
  ['upstream', async () => (await scenarios('hostile-upstream')).hostileUpstream({ endlessStreamMs: 25_000, endlessBodyMs: 60_000, logprobsEntries: 300_000 })],
  ['loggone', async () => (await scenarios('log-gone')).logGone({ agents: 16, cycles: 10, outageMs: 2000, steadyMs: 2000, hangMs: 30_000 })],
  ['foreignpid', async () => (await scenarios('foreign-pid')).foreignPid({ rounds: 3 })],
  ['timeouts', async () => (await scenarios('long-timeouts')).longTimeouts({ waitMs: 10_000 })],
  ['symlinks', async () => (await scenarios('symlinks')).symlinks({ swaps: 20, agents: 8, swapMs: 300 })],
  ['responsefiles', async () => (await scenarios('response-files')).responseFiles({ rounds: 3, responseBytes: 256 * 1024, devStdin: true })],
  ['binary', async () => (await scenarios('truncated-binary')).truncatedBinary({ sizes: [1000, 4096, 8192, 16_384, 24_576, 32_768, 40_960, 49_152, 57_344, 61_400, 62_000, 65_536, 80_000], withStart: true })],
  ['racingstarts', async () => (await scenarios('racing-starts')).racingStarts({ rounds: 5, starters: 4, configBytes: 200 * 1024 })],
  ['index', async () => (await scenarios('index-limit')).indexLimit({ turns: 30 })],
  ['bodies', async () => (await scenarios('unfinished-bodies')).unfinishedBodies({ fastConnections: 16, bodyBytes: 60 * MiB, slowConnections: 16, graceMs: 15_000 })],
  ['racinganswers', async () => (await scenarios('racing-answers')).racingAnswers({ trials: 30, runtimes: 4 })],
  ['deep', async () => (await scenarios('deep-values')).deepValues({ depths: [100, 900, 1000, 20_000, 100_000] })],
];

const only = values.only ? new Set(values.only.split(',')) : undefined;
const rows = [];
for (const [key, runScenario] of PLAN) {
  if (only && !only.has(key)) continue;
  process.stderr.write(`running ${key}…\n`);
  try {
    const figures = await runScenario();
    if (figures === null) {
      rows.push({ scenario: key, skipped: 'cannot run here (mounting a tmpfs needs root)' });
      continue;
    }
    rows.push(figures);
    process.stderr.write(`  ${figures.scenario}: lost ${figures.lost}, ${figures.violations.length} violation(s), ${figures.seconds.toFixed(1)} s\n`);
  } catch (err) {
    rows.push({ scenario: key, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.stderr.write(`  ${key}: ERROR ${err instanceof Error ? err.message : err}\n`);
  }
}

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const lines = [
  `Reliability run: ${new Date().toISOString()}, Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}${full ? ', --full' : ''}`,
  '',
  '| Scenario | Load held | Faults injected | Inputs tried | Lost | Held | Figures | Time |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
const broken = [];
for (const r of rows) {
  if (r.skipped || r.error) {
    lines.push(`| ${cell(r.scenario)} | | | | | ${r.skipped ? `skipped: ${cell(r.skipped)}` : 'ERROR'} | ${cell(r.error?.split('\n')[0] ?? '')} | |`);
    if (r.error) broken.push(`- ${r.scenario}: ${r.error}`);
    continue;
  }
  const figures = Object.entries(r.measured).map(([k, v]) => `${k}: ${v}`).join('; ');
  const held = r.violations.length === 0 && r.lost === 0 ? 'yes' : `NO (${r.violations.length})`;
  lines.push(`| ${cell(r.scenario)} | ${cell(r.load)} | ${cell(r.faults)} | ${cell(r.inputs)} | ${r.lost} | ${held} | ${cell(figures)} | ${r.seconds.toFixed(0)} s |`);
  for (const v of r.violations.slice(0, 5)) broken.push(`- ${r.scenario}: ${v}`);
  if (r.violations.length > 5) broken.push(`- ${r.scenario}: … and ${r.violations.length - 5} more`);
}
if (broken.length > 0) lines.push('', 'Broken expectations:', '', ...broken);
const report = lines.join('\n') + '\n';
process.stdout.write(report);
if (values.out) writeFileSync(values.out, report);
process.exitCode = rows.some((r) => r.error || (r.violations && (r.violations.length > 0 || r.lost > 0))) ? 1 : 0;
