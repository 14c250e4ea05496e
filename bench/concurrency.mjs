#!/usr/bin/env node
// Question: how does one service hold up under many agents at once? 256 agents send their
// turns concurrently (each sequential: the next request after its reply; a 2 KiB system
// message and a short exchange added per turn) to one service in its own process. The
// runtime, in the bench process, is a LogFollower (dist/follower) on the log plus the
// protocol writer: it answers every request the moment its line appears, in arrival order,
// whichever agent sent it. Each reply names its request, and each agent checks that it got
// its own. Reports turns per second, latency per request (p50/p99 without each agent's first
// turn, which also connects: its worst case is shown apart), and the service's RSS (idle,
// peak and after the run, from /proc). One row per scanner, each in a fresh service.
// Needs `npx tsc -p tsconfig.json`. Usage: node bench/concurrency.mjs [agents] [turns per agent]   (default 256 20)
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { post, startServiceChild } from './turns.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { LogFollower } = await import(join(dist, 'follower', 'index.js'));
const { appendLine, closeAppendFd, openAppendFd } = await import(join(dist, 'log-file', 'index.js'));
const { compactJson, encodeResponseLine } = await import(join(dist, 'protocol', 'index.js'));
const { recordAt, RecordKind } = await import(join(dist, 'scanner', 'index.js'));
const { loadNativeEngine } = await import(join(dist, 'scanner', 'load.js'));

const agents = Number(process.argv[2] ?? 256);
const turnsPerAgent = Number(process.argv[3] ?? 20);

/** Returns VmRSS and VmHWM (peak) of `pid` in MB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

async function run(scanner) {
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-conc-'));
  const { url, child } = await startServiceChild(dir, { ROCK_MS_SCANNER: scanner });
  const idle = memoryOf(child.pid);
  const logFile = join(dir, 'LLMService.log');
  const fd = openAppendFd(logFile);
  const follower = new LogFollower(logFile);
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
  const started = performance.now();
  await Promise.all(
    Array.from({ length: agents }, async (_, a) => {
      const messages = [{ role: 'system', content: 'x'.repeat(2048) }];
      for (let k = 0; k < turnsPerAgent; k++) {
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
  clearInterval(sampler);
  const after = memoryOf(child.pid);
  follower.close();
  closeAppendFd(fd);
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
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    idleRss: idle.rss,
    peakRss: Math.max(peak, after.peak),
    afterRss: after.rss,
  };
}

const scanners = loadNativeEngine().engine ? ['native', 'ts'] : ['ts'];
const rows = [];
for (const scanner of scanners) rows.push(await run(scanner));
const f = (v, d = 1) => v.toFixed(d);
console.log(`${agents} concurrent agents x ${turnsPerAgent} sequential turns against one service (its own process); runtime: LogFollower + protocol writer in the bench process`);
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| scanner | requests | turns/s | p50 ms | p99 ms | first turn max ms | service RSS idle MB | peak MB | after MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  if (r.answered !== r.turns) throw new Error(`${r.scanner}: ${r.answered} answers for ${r.turns} requests`);
  console.log(`| ${r.scanner} | ${r.turns} | ${f(r.perSecond, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.firstMax, 0)} | ${f(r.idleRss)} | ${f(r.peakRss)} | ${f(r.afterRss)} |`);
}
