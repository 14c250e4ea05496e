#!/usr/bin/env node
// Question: how long does one local-mode turn take? Sequential turns: the agent POSTs over
// HTTP (node:http, keep-alive) to a service in its own process; the runtime is `ModelClient`
// (dist/client) in the bench process: antiCallLlm(i, reply) appends response i and waits,
// event-driven, for request i+1. A turn is timed from the agent's request bytes being ready
// to its reply parsed. Two histories: "2 KiB" starts with a 2 KiB system message and grows
// by one short exchange a turn (as the acceptance check turn-latency does); "+2 KiB/turn"
// grows by 2 KiB a turn (the agent resends the whole conversation, so the last request is
// about 700 KiB). One row per history and scanner, each in a fresh pair of processes.
// Two agent clients: node:http with a keep-alive agent, and fetch (undici inside Node, what the
// openai SDK uses), each measured first against a bare node:http server that answers at once
// (its floor: the client's own round trip), in the same process, same bodies.
// Targets (2 KiB history): p50 <= the client's floor + 0.3 ms, p99 <= 3 ms; the reference needs
// about 1000 ms a turn (its client sleeps 1 s between polls).
// Needs `npm run build`. Usage: node bench/turns.mjs [turns] [rounds]   (default 300 3)
// BENCH_SERVICE_FLAGS="--no-opt" (say) passes Node or V8 flags to the service process, for an A/B.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
if (!existsSync(join(dist, 'index.js'))) throw new Error('build first: npm run build');
const WARMUP = 20;
const HISTORIES = { '2 KiB': 0, '+2 KiB/turn': 2048 };

/** Starts a service child on a free loopback port; resolves with its url and process. */
export async function startServiceChild(dataDir, env = {}) {
  const script =
    `const { startServer } = await import(${JSON.stringify(join(dist, 'index.js'))});` +
    `const s = await startServer({ host: '127.0.0.1', port: 0, dataDir: ${JSON.stringify(dataDir)}, logLevel: 'warn' });` +
    `console.log(s.url); process.on('SIGTERM', () => s.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVICE_FLAGS ?? '').split(' ').filter(Boolean), '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const [data] = await once(child.stdout, 'data');
  return { url: data.toString().trim(), child };
}

/** POSTs `body` and resolves with the response text; throws on a status other than 200. */
export function post(url, body, agent) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The same POST through fetch (undici's pool keeps the connection alive). */
async function postFetch(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  return text;
}

/** A bare node:http server in its own process that reads the body and answers a fixed completion at once. */
async function startFloorChild() {
  const reply = JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'floor' }, finish_reason: 'stop' }] });
  const script =
    `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.writeHead(200, { 'content-type': 'application/json', 'content-length': ${Buffer.byteLength(reply)} }); r.end(${JSON.stringify(reply)}); }); });` +
    `s.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = await once(child.stdout, 'data');
  return { url: data.toString().trim(), child };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

const filler = 'lorem ipsum dolor sit amet, Grüße 你好 '.repeat(100);
const text = (n, tail) => (n > 0 ? filler.slice(0, n / 2 - 40) : '') + tail;

/** The client's round trip to a server that answers at once, with the bodies the turns send: p50 in ms. */
async function floorOnce(turns, growth, send) {
  const { url, child } = await startFloorChild();
  const messages = [{ role: 'system', content: 'x'.repeat(2048) }];
  const latencies = [];
  for (let i = 1; i <= turns + WARMUP; i++) {
    messages.push({ role: 'user', content: text(growth, `turn ${i}`) });
    const body = Buffer.from(JSON.stringify({ model: 'bench', messages }), 'utf8');
    const t = performance.now();
    const reply = JSON.parse(await send(`${url}/v1/chat/completions`, body));
    if (i > WARMUP) latencies.push(performance.now() - t);
    messages.push({ role: 'assistant', content: text(growth, `reply ${i}`) });
    void reply;
  }
  child.kill('SIGTERM');
  await once(child, 'exit');
  latencies.sort((a, b) => a - b);
  return quantile(latencies, 0.5);
}

async function runOnce(turns, growth, clientKind) {
  const { ModelClient } = await import(join(dist, 'index.js'));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = clientKind === 'fetch' ? postFetch : (url, body) => post(url, body, agent);
  const floor = await floorOnce(turns, growth, send);
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-turns-'));
  const { url, child } = await startServiceChild(dir);
  const client = new ModelClient({ dataDir: dir });
  const messages = [{ role: 'system', content: 'x'.repeat(2048) }];
  const latencies = [];
  let lastRequestBytes = 0;
  const total = turns + WARMUP;
  const agentLoop = (async () => {
    for (let i = 1; i <= total; i++) {
      messages.push({ role: 'user', content: text(growth, `turn ${i}`) });
      const body = Buffer.from(JSON.stringify({ model: 'bench', messages }), 'utf8');
      lastRequestBytes = body.length;
      const t = performance.now();
      const reply = JSON.parse(await send(`${url}/v1/chat/completions`, body));
      if (i > WARMUP) latencies.push(performance.now() - t);
      messages.push(reply.choices[0].message);
    }
  })();
  const runtimeLoop = (async () => {
    let req = await client.antiCallLlm(0);
    for (let i = 1; i <= total; i++) {
      if (!req.endsWith(`turn ${i}"}]}`)) throw new Error(`runtime got the wrong request at turn ${i}`);
      const reply = JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: text(growth, `reply ${i}`) }, finish_reason: 'stop' }] });
      if (i === total) {
        await client.pushResponse(i, reply);
        break;
      }
      req = await client.antiCallLlm(i, reply);
    }
  })();
  await Promise.all([agentLoop, runtimeLoop]);
  client.close();
  agent.destroy();
  child.kill('SIGTERM');
  await once(child, 'exit');
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    turns,
    floor,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1],
    lastRequestKiB: lastRequestBytes / 1024,
  };
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === '--child') {
  console.log(JSON.stringify(await runOnce(Number(process.argv[3]), Number(process.argv[4]), process.argv[5])));
} else if (isMain) {
  const turns = Number(process.argv[2] ?? 300);
  const rounds = Number(process.argv[3] ?? 3);
  const { availableEngines } = await import(join(dist, 'index.js'));
  const scanners = availableEngines().length > 1 ? ['native', 'ts'] : ['ts'];
  const rows = [];
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const variants = scanners.flatMap((scanner) => ['node:http', 'fetch'].map((clientKind) => ({ scanner, clientKind })));
  for (const [history, growth] of Object.entries(HISTORIES)) {
    // Rounds alternate the variants' order, and each figure is the median of its rounds, so
    // that a burst of load from other work on a shared machine does not decide a row.
    const runs = variants.map(() => []);
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, k) => k);
      for (const k of round % 2 === 0 ? order : order.reverse()) {
        const { scanner, clientKind } = variants[k];
        const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(turns), String(growth), clientKind], {
          env: { ...process.env, ROCK_MS_SCANNER: scanner },
          stdio: ['ignore', 'pipe', 'inherit'],
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`the ${history} ${scanner} ${clientKind} run failed (exit ${r.status})`);
        runs[k].push(JSON.parse(r.stdout.trim().split('\n').pop()));
      }
    }
    variants.forEach(({ scanner, clientKind }, k) => {
      const m = (key) => median(runs[k].map((r) => r[key]));
      rows.push({ history, growth, scanner, clientKind, turns, floor: m('floor'), p50: m('p50'), p90: m('p90'), p99: m('p99'), max: m('max'), lastRequestKiB: m('lastRequestKiB') });
    });
  }
  const ms = (v) => v.toFixed(2);
  console.log(`Sequential turns, agent over HTTP (service in its own process), runtime ModelClient in process (${WARMUP} warm-up turns not counted)`);
  console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; medians of ${rounds} rounds, order alternating\n`);
  console.log('| history | scanner | agent client | turns | client floor p50 ms | p50 ms | p50 - floor ms | p90 ms | p99 ms | max ms | last request KiB | target p50 <= floor + 0.3, p99 <= 3 |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const verdict = r.growth > 0 ? '(heavy, no target)' : r.p50 - r.floor <= 0.3 && r.p99 <= 3 ? 'met' : 'missed';
    console.log(
      `| ${r.history} | ${r.scanner} | ${r.clientKind} | ${r.turns} | ${ms(r.floor)} | ${ms(r.p50)} | ${ms(r.p50 - r.floor)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.lastRequestKiB.toFixed(0)} | ${verdict} |`,
    );
  }
  console.log('| reference (Python, 1 s poll) | | | | | ~1000 | | | | | | |');
}
