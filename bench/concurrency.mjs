#!/usr/bin/env node
// Question: how does one service hold up under many agents at once? 256 agents send their
// turns concurrently (each sequential: the next request after its reply; a 2 KiB system
// message and a short exchange added per turn) to one service in its own process. The
// runtime, in the bench process, is a LogFollower (dist/follower) on the log plus the
// protocol writer: it answers every request the moment its line appears, in arrival order,
// whichever agent sent it. Each reply names its request, and each agent checks that it got
// its own. Reports turns per second, latency per request (p50/p99 without each agent's first
// turn, which also connects: its worst case is shown apart), the service's CPU time per turn
// (utime + stime from /proc: the part a scanner can change), and its RSS (idle, peak and
// after the run). The runtime's follower uses the same scanner as the service.
// An untimed warm-up round comes first, then rounds alternate the order of the scanners and
// each row is the median of its rounds: the first run in a process pays the bench's own
// warm-up (JIT, 256 sockets), which had made whichever scanner ran first look 20-40% slower.
// Needs `npm run build`. Usage: node bench/concurrency.mjs [agents] [turns per agent] [rounds]   (default 256 20 3)
import { once } from 'node:events';
import { closeSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { post, startServiceChild } from './turns.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { LogFollower, appendLine, openAppendFd, compactJson, encodeResponseLine, openScanner, recordAt, RecordKind, availableEngines } = await import(
  join(root, 'dist', 'index.js')
);

const agents = Number(process.argv[2] ?? 256);
const turnsPerAgent = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 3);
const engines = Object.fromEntries(availableEngines().map((engine) => [engine.kind, engine]));

/** Returns the CPU time (user + system) `pid` has used, in ms. */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}

/** Returns VmRSS and VmHWM (peak) of `pid` in MB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function run(scanner, turns = turnsPerAgent) {
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-conc-'));
  const { url, child } = await startServiceChild(dir, { ROCK_MS_SCANNER: scanner });
  const idle = memoryOf(child.pid);
  const logFile = join(dir, 'LLMService.log');
  const fd = openAppendFd(logFile);
  const follower = new LogFollower(logFile, { scanner: openScanner(logFile, { engine: engines[scanner] }) });
  let answered = 0;
  follower.onRecords((batch, scan) => {
    for (let i = 0; i < batch.count; i++) {
      const record = recordAt(batch, i);
      if (record.kind !== RecordKind.Request) continue;
      const request = JSON.parse(scan.readPayloadText(record));
      const asked = request.messages[request.messages.length - 1].content;
      const reply = JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: `re: ${asked}` }, finish_reason: 'stop' }] });
      appendLine(fd, encodeResponseLine(compactJson(reply), record.index));
      answered++;
    }
  });
  const http = new Agent({ keepAlive: true, maxSockets: agents });
  const latencies = [];
  // Each agent's first turn also opens its connection, all 256 at once: reported apart.
  const firstTurns = [];
  let peak = idle.peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryOf(child.pid).rss);
  }, 50);
  const cpuBefore = cpuMsOf(child.pid);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: agents }, async (_, a) => {
      const messages = [{ role: 'system', content: 'x'.repeat(2048) }];
      for (let k = 0; k < turns; k++) {
        const asked = `agent ${a} turn ${k}`;
        messages.push({ role: 'user', content: asked });
        const body = Buffer.from(JSON.stringify({ model: 'bench', messages }), 'utf8');
        const t = performance.now();
        const reply = JSON.parse(await post(`${url}/v1/chat/completions`, body, http));
        (k === 0 ? firstTurns : latencies).push(performance.now() - t);
        const got = reply.choices[0].message;
        if (got.content !== `re: ${asked}`) throw new Error(`agent ${a} got ${JSON.stringify(got.content)} for ${JSON.stringify(asked)}`);
        messages.push(got);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = cpuMsOf(child.pid) - cpuBefore;
  clearInterval(sampler);
  const after = memoryOf(child.pid);
  follower.close();
  closeSync(fd);
  http.destroy();
  child.kill('SIGTERM');
  await once(child, 'exit');
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((x, y) => x - y);
  return {
    scanner,
    turns: latencies.length + firstTurns.length,
    firstMax: Math.max(...firstTurns),
    answered,
    perSecond: (latencies.length + firstTurns.length) / seconds,
    cpuPerTurn: cpuMs / (latencies.length + firstTurns.length),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    idleRss: idle.rss,
    peakRss: Math.max(peak, after.peak),
    afterRss: after.rss,
  };
}

const scanners = engines.native ? ['native', 'ts'] : ['ts'];
const runs = Object.fromEntries(scanners.map((name) => [name, []]));
// An untimed short round first: the bench process's own warm-up must not land on a row.
for (const scanner of scanners) await run(scanner, 2);
for (let round = 0; round < rounds; round++) {
  for (const scanner of round % 2 === 0 ? scanners : [...scanners].reverse()) {
    const r = await run(scanner);
    if (r.answered !== r.turns) throw new Error(`${r.scanner}: ${r.answered} answers for ${r.turns} requests`);
    runs[scanner].push(r);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const f = (v, d = 1) => v.toFixed(d);
console.log(`${agents} concurrent agents x ${turnsPerAgent} sequential turns against one service (its own process); runtime: LogFollower + protocol writer in the bench process, on the same scanner`);
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; medians of ${rounds} rounds, order alternating\n`);
console.log('| scanner | requests | turns/s | p50 ms | p99 ms | service CPU ms/turn | first turn max ms | service RSS idle MB | peak MB | after MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const scanner of scanners) {
  const rs = runs[scanner];
  const m = (key) => median(rs.map((r) => r[key]));
  console.log(
    `| ${scanner} | ${rs[0].turns} | ${f(m('perSecond'), 0)} | ${f(m('p50'), 2)} | ${f(m('p99'), 2)} | ${f(m('cpuPerTurn'), 3)} | ${f(m('firstMax'), 0)} | ${f(m('idleRss'))} | ${f(m('peakRss'))} | ${f(m('afterRss'))} |`,
  );
}
console.log(`\nper round (turns/s): ${scanners.map((s) => `${s} ${runs[s].map((r) => f(r.perSecond, 0)).join(', ')}`).join('; ')}`);
