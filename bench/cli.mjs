#!/usr/bin/env node
// Question: what does one runtime turn cost when the runtime runs `rock model-service
// anti-call-llm` as a new process (as it does in every sandbox), next to a bare `node -e 0`,
// and does a 1 GiB log cost more than a tiny one? Each timed call is a real turn: the
// service's request N+1 is appended first (untimed), then `--index N --response R` appends
// response N and prints request N+1. The package's CLI (bin/rock.js) and, when `npm run
// package` built it, the standalone executable. Runs interleaved; wall-time medians, and the
// mean CPU time (steadier than wall time on a shared machine). Needs `npm run build`.
// Usage: node bench/cli.mjs [runs] [--compare DIR ...]   (default 21 runs; each --compare adds the
// CLI of another built checkout, e.g. a worktree of main)
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seaExecutablePath } from '../scripts/sea-path.mjs';
import { childCpuMs, mean } from './support/child-cpu.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rock = join(root, 'bin', 'rock.js');
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('build first: npm run build');
const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { compare: { type: 'string', multiple: true, default: [] } } });
const runs = Number(positionals[0] ?? 21);
const RESPONSE = '{"choices":[{"index":0,"message":{"role":"assistant","content":"r"},"finish_reason":"stop"}]}';

const requestLine = (i, pad = '') =>
  `LLM_REQUEST_START${JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `${pad}turn ${i}` }] })}LLM_REQUEST_END{"timestamp": 1, "index": ${i}}\n`;
const responseLine = (i) => `LLM_RESPONSE_START${RESPONSE}LLM_RESPONSE_END{"timestamp": 1, "index": ${i}}\n`;

/** A log of `turns` answered turns of `padBytes` each, ending with request turns+1 unanswered. */
function makeLog(turns, padBytes) {
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-cli-'));
  const fd = openSync(join(dir, 'LLMService.log'), 'w');
  const pad = 'x'.repeat(padBytes);
  for (let i = 1; i <= turns; i++) writeSync(fd, requestLine(i, pad) + responseLine(i));
  writeSync(fd, requestLine(turns + 1));
  closeSync(fd);
  return { dir, next: turns + 1 };
}

function time(cmd, args, env) {
  const cpu = childCpuMs();
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, cpuMs: childCpuMs() - cpu, stdout: r.stdout.toString() };
}

/** One turn on `log`: the service's next request appears, then the runtime answers the previous one. */
function turn(program, log, scanner) {
  const index = log.next;
  const fd = openSync(join(log.dir, 'LLMService.log'), 'a');
  writeSync(fd, requestLine(index + 1));
  closeSync(fd);
  const r = time(program.command, [...program.args, 'model-service', 'anti-call-llm', '--index', String(index), '--response', RESPONSE], {
    ROCK_MODEL_SERVICE_DATA_DIR: log.dir,
    ROCK_MS_SCANNER: scanner,
  });
  if (!r.stdout.includes(`turn ${index + 1}`)) throw new Error(`turn ${index}: printed ${r.stdout.slice(0, 200)}`);
  log.next = index + 1;
  return r;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const programs = [{ name: 'bin/rock.js', command: process.execPath, args: [rock] }];
for (const other of flags.compare) programs.push({ name: `${other}/bin/rock.js`, command: process.execPath, args: [join(other, 'bin', 'rock.js')] });
const sea = seaExecutablePath(root);
if (existsSync(sea)) programs.push({ name: 'standalone executable', command: sea, args: [] });
const scanners = ['ts'];
if (spawnSync(process.execPath, [rock, 'model-service', 'status'], { env: { ...process.env, ROCK_MS_SCANNER: 'native' } }).status === 0) scanners.unshift('native');

const tiny = makeLog(2, 10);
const big = makeLog(1024, 1 << 20); // 1 GiB of 1 MiB requests
// A gigabyte must not stay behind in the temp dir when the run is interrupted.
process.once('SIGINT', () => {
  for (const log of [tiny, big]) rmSync(log.dir, { recursive: true, force: true });
  process.exit(130);
});
try {
  const times = { node: [] };
  const cases = programs.flatMap((program) => scanners.flatMap((scanner) => [
    { key: `${program.name} tiny ${scanner}`, program, scanner, log: tiny },
    { key: `${program.name} big ${scanner}`, program, scanner, log: big },
  ]));
  for (const c of cases) times[c.key] = [];
  for (let k = 0; k < runs; k++) {
    times.node.push(time(process.execPath, ['-e', '0']));
    for (const c of cases) times[c.key].push(turn(c.program, c.log, c.scanner));
  }
  const wall = (key) => median(times[key].map((r) => r.ms));
  const cpu = (key) => mean(times[key].map((r) => r.cpuMs));
  const base = wall('node');
  const baseCpu = cpu('node');
  const rows = [['`node -e 0`', '-', '-', base, '1.00x', baseCpu, '1.00x', '-']];
  for (const program of programs) {
    for (const s of scanners) {
      const t = `${program.name} tiny ${s}`;
      const b = `${program.name} big ${s}`;
      rows.push([program.name, 'tiny log', s, wall(t), `${(wall(t) / base).toFixed(2)}x`, cpu(t), `${(cpu(t) / baseCpu).toFixed(2)}x`, '1.00x']);
      rows.push([program.name, '1 GiB log', s, wall(b), `${(wall(b) / base).toFixed(2)}x`, cpu(b), `${(cpu(b) / baseCpu).toFixed(2)}x`, `${(wall(b) / wall(t)).toFixed(2)}x`]);
    }
  }
  console.log(`### anti-call-llm per turn as a new process (${runs} runs, interleaved)\n`);
  console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| program | log | scanner | median wall ms | vs `node -e 0` | mean CPU ms | vs `node -e 0` | wall vs tiny log |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [program, log, s, ms, x, cpuMs, cx, y] of rows) console.log(`| ${program} | ${log} | ${s} | ${ms.toFixed(1)} | ${x} | ${cpuMs.toFixed(1)} | ${cx} | ${y} |`);
} finally {
  rmSync(tiny.dir, { recursive: true, force: true });
  rmSync(big.dir, { recursive: true, force: true });
}
