#!/usr/bin/env node
// Question: where does the log's part of a local turn go? A turn crosses the log twice (the
// service appends request N and the runtime wakes; the runtime appends response N and the
// service wakes), so it pays two file-event wakes across processes, two follower scans, the
// runtime's look at the log before it waits and its append, and the router's read of the
// response. Each is measured on its own here, per scanner, with 2 KB lines:
// - wake: a child process appends a line stamped with process.hrtime (CLOCK_MONOTONIC, shared
//   by processes), the follower in this process delivers it; file events only, then the
//   100 ms safety-net poll only (what a turn would cost without events);
// - the follower's work per wake (poke: replacement check, scan, tail check, delivery);
// - ModelClient.pushResponse (latest response, open, one write, close) and the look at the log
//   that popRequest makes before it waits (latest request-or-session-end);
// - the router's read of a response and its JSON check.
// The HTTP part of a turn is measured by bench/turns.mjs (the turn) against its floor.
// The follower, scanner and protocol modules are internal (the bundle exports ModelClient and the
// scanner, not the parts measured here), so they are loaded from the sources through tsx.
// Usage: node bench/turn-breakdown.mjs [samples]   (default 2000)
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const source = (file) => import(new URL(`../src/${file}`, import.meta.url).href);
const { LogFollower } = await source('follower/index.ts');
const { ModelClient } = await source('client/model-client.ts');
const { openScanner, recordAt, KindMask } = await source('scanner/index.ts');
const { loadNativeEngine } = await source('scanner/load.ts');
const { tsEngine } = await source('scanner/ts-engine.ts');
const { encodeRequestLine, encodeResponseLine } = await source('protocol/index.ts');

const samples = Number(process.argv[2] ?? 2000);
const engines = [['native', loadNativeEngine().engine], ['ts', tsEngine]].filter(([, e]) => e);
const REPLY = JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'r'.repeat(2000) }, finish_reason: 'stop' }] });
const request = (i) => encodeRequestLine(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'q'.repeat(2000) }] }), i);

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const us = (t0) => Number(process.hrtime.bigint() - t0) / 1000;

/** Write in a child process → delivered by a follower here; returns latencies in µs. */
async function wakeLatency(engine, dir, mode, count) {
  const path = join(dir, `wake-${mode}.log`);
  writeFileSync(path, '');
  const follower = new LogFollower(path, { scanner: openScanner(path, { engine }), pollIntervalMs: 100 });
  if (mode === 'events') follower.pausePolling();
  const latencies = [];
  follower.onRecords((batch, scanner) => {
    const now = process.hrtime.bigint();
    for (let i = 0; i < batch.count; i++) latencies.push(Number(now - BigInt(JSON.parse(scanner.readPayloadText(recordAt(batch, i))).t)) / 1000);
  });
  // Poll only: a directory watch cannot be turned off, so the writer goes through a hard link
  // in another directory, which the watch does not see.
  let target = path;
  if (mode === 'poll') {
    const other = mkdtempSync(join(tmpdir(), 'rms-bench-link-'));
    target = join(other, 'alias.log');
    (await import('node:fs')).linkSync(path, target);
  }
  const writer = spawn(process.execPath, [
    '-e',
    `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(target)}, 'a'); let i = 0;
     const pad = 'x'.repeat(2000);
     (function tick() { if (i++ >= ${count}) return process.exit(0);
       fs.writeSync(fd, 'LLM_RESPONSE_START{"t":"' + process.hrtime.bigint() + '","p":"' + pad + '"}LLM_RESPONSE_END{"timestamp": 1, "index": ' + i + '}\\n');
       setTimeout(tick, ${mode === 'poll' ? 37 : 2}); })();`,
  ]);
  await new Promise((resolve) => writer.on('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 250));
  follower.close();
  if (mode === 'poll') rmSync(dirname(target), { recursive: true, force: true });
  return latencies;
}

/** Timings in µs of `step` over `count` runs, each after `prepare` (untimed). */
function timed(count, prepare, step) {
  const out = [];
  for (let i = 0; i < count; i++) {
    prepare(i);
    const t0 = process.hrtime.bigint();
    step(i);
    out.push(us(t0));
  }
  return out;
}

const rows = [];
const row = (what, cells) => rows.push(`| ${what} | ${cells.join(' | ')} |`);
const results = [];
for (const [name, engine] of engines) {
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-breakdown-'));
  try {
    const r = {};
    r.events = await wakeLatency(engine, dir, 'events', samples);
    r.poll = await wakeLatency(engine, dir, 'poll', Math.min(60, samples));

    const path = join(dir, 'poke.log');
    writeFileSync(path, '');
    const follower = new LogFollower(path, { scanner: openScanner(path, { engine }), pollIntervalMs: 60_000 });
    follower.pausePolling();
    follower.onRecords(() => undefined);
    r.poke = timed(samples, (i) => appendFileSync(path, request(i + 1)), () => follower.poke());
    follower.close();

    // The runtime's steps, on a log of 200 earlier turns, with this engine forced.
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, Buffer.concat(Array.from({ length: 200 }, (_, i) => Buffer.concat([request(i + 1), encodeResponseLine(REPLY, i + 1)]))));
    process.env.ROCK_MS_SCANNER = name;
    const client = new ModelClient({ logFile: log });
    let index = 200;
    r.push = timed(samples, () => appendFileSync(log, request(++index)), () => client.pushResponse(index, REPLY));
    const scanner = openScanner(log, { engine });
    r.look = timed(samples, () => undefined, () => scanner.findLast(KindMask.Request | KindMask.SessionEnd));
    const latest = scanner.findLast(KindMask.Response);
    r.answer = timed(samples, () => undefined, () => JSON.parse(scanner.readPayloadText(latest)));
    scanner.close();
    client.close();
    delete process.env.ROCK_MS_SCANNER;
    results.push([name, r]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cell = (xs) => `${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.99).toFixed(1)}`;
const names = results.map(([n]) => n);
rows.push(`| step of a turn (2 KB lines), µs p50 / p99 | ${names.join(' | ')} |`, `| --- |${' ---: |'.repeat(names.length)}`);
row('file event: a line written by another process, delivered here (x2 per turn)', results.map(([, r]) => cell(r.events)));
row('the same through the 100 ms poll alone (no file events)', results.map(([, r]) => cell(r.poll)));
row('follower wake: replacement check, scan, tail check, delivery (x2 per turn)', results.map(([, r]) => cell(r.poke)));
row('runtime: pushResponse (latest response, open, one write, close)', results.map(([, r]) => cell(r.push)));
row('runtime: popRequest\'s look before it waits (latest request or session end)', results.map(([, r]) => cell(r.look)));
row('router: read the response and check it is JSON', results.map(([, r]) => cell(r.answer)));

console.log(`### bench/turn-breakdown: the log's part of a local turn, ${new Date().toISOString().slice(0, 10)}`);
console.log(`Node ${process.version}, ${cpus()[0]?.model.trim()} x${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${samples} samples per step.\n`);
console.log(rows.join('\n'));
