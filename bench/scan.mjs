#!/usr/bin/env node
// Question: how fast do the scanners read the log? A generated 1 GiB log (requests of 1 KiB
// to 1 MiB, each answered by a small response), warm page cache. Full scan in GB/s for the
// native engine, the TypeScript engine, a C ceiling (`wc -l`: read(2) and a newline count) and
// the naive reader (the whole file as one string, split('\n'): what the reference does on
// every poll); then the incremental cost (append one line to logs of 1 MiB, 100 MiB and
// 1 GiB, alternately a 1 KiB request and its small response, and find it from the saved
// offset) and the two findLast queries of a CLI turn on each, in µs (medians).
// Needs `npm run build`. Usage: node bench/scan.mjs [GiB]   (default 1)
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('build first: npm run build');
const { availableEngines, KindMask } = await import(join(root, 'dist', 'index.js'));
const tsEngine = availableEngines().find((e) => e.kind === 'ts');
const native = availableEngines().find((e) => e.kind === 'native');

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const totalBytes = Math.round(Number(process.argv[2] ?? 1) * GiB);
const FULL_RUNS = 5;
const INCREMENTAL_RUNS = 21;
/** Untimed rounds first, so that the first log size measured does not pay for the JIT's warm-up. */
const WARMUP_RUNS = 100;

/** A deterministic generator (mulberry32), so that every run scans the same log. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const filler = 'The quick brown fox jumps over the lazy dog; Grüße, 你好. '.repeat(20_000).slice(0, MiB);
const requestLine = (i, bytes) =>
  `LLM_REQUEST_START{"model":"m","messages":[{"role":"user","content":"${filler.slice(0, bytes)}"}]}LLM_REQUEST_END{"timestamp": 1732500000000, "index": ${i}}\n`;
const responseLine = (i) =>
  `LLM_RESPONSE_START{"choices":[{"index":0,"message":{"role":"assistant","content":"ok ${i}"},"finish_reason":"stop"}]}LLM_RESPONSE_END{"timestamp": 1732500000001, "index": ${i}}\n`;

/** Writes a log of about `bytes` bytes: request sizes log-uniform from 1 KiB to 1 MiB. Returns the next index. */
function writeLog(path, bytes) {
  const rand = random(42);
  const fd = openSync(path, 'w');
  let written = 0;
  let i = 1;
  while (written < bytes) {
    const size = Math.round(1024 * 2 ** (rand() * 10));
    const chunk = Buffer.from(requestLine(i, Math.min(size, bytes - written)) + responseLine(i));
    writeSync(fd, chunk);
    written += chunk.length;
    i++;
  }
  closeSync(fd);
  return i;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const now = () => process.hrtime.bigint();
const seconds = (t0) => Number(now() - t0) / 1e9;

/** Scans the whole file batch after batch; returns [seconds, lines]. */
function fullScan(engine, fd) {
  const t0 = now();
  let offset = 0;
  let lines = 0;
  for (;;) {
    const r = engine.scan(fd, offset);
    lines += r.count;
    if (r.nextOffset === offset) break;
    offset = r.nextOffset;
  }
  return [seconds(t0), lines];
}

/** Counts the file's newlines with `wc -l`; returns [seconds, lines]. */
function wcLines(path) {
  const t0 = now();
  const r = spawnSync('wc', ['-l', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wc -l failed: ${r.stderr}`);
  return [seconds(t0), Number(r.stdout.trim().split(/\s+/)[0])];
}

/** The reference's way: the file as one string, split into lines, each classified. Throws past ~512 MiB. */
function naiveScan(path, limitBytes) {
  const t0 = now();
  let text;
  if (limitBytes === undefined) {
    text = readFileSync(path, 'utf8');
  } else {
    const fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafe(limitBytes);
    const got = readSync(fd, buf, 0, limitBytes, 0);
    closeSync(fd);
    text = buf.toString('utf8', 0, buf.lastIndexOf(10, got - 1) + 1);
  }
  let requests = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('LLM_REQUEST_START') && line.lastIndexOf('LLM_REQUEST_END') > 0) requests++;
  }
  return [seconds(t0), Buffer.byteLength(text), requests];
}

const dir = mkdtempSync(join(tmpdir(), 'rms-bench-scan-'));
const rows = [];
const engines = [['native', native], ['TypeScript', tsEngine]].filter(([, e]) => e);
try {
  const big = join(dir, 'big.log');
  const sizes = [
    ['1 MiB', join(dir, 'small.log'), MiB],
    ['100 MiB', join(dir, 'medium.log'), 100 * MiB],
    [`${(totalBytes / GiB).toFixed(totalBytes % GiB ? 2 : 0)} GiB`, big, totalBytes],
  ];
  const nextIndex = new Map(sizes.map(([, path, bytes]) => [path, writeLog(path, bytes)]));
  const fd = openSync(big, 'r');
  const size = fstatSync(fd).size;
  readFileSync(big).length; // warm the page cache
  const gbps = (s) => (size / s / 1e9).toFixed(2);

  rows.push('| full scan of the log | GB/s, median | GB/s, best | notes |', '| --- | ---: | ---: | --- |');
  // Rounds interleave the contenders, so that a burst of load from other work on this shared
  // machine hits all of them rather than one.
  const contenders = engines.map(([name, engine]) => [`${name} engine`, () => fullScan(engine, fd)]);
  contenders.push(['C ceiling (`wc -l`)', () => wcLines(big)]);
  const times = contenders.map(() => []);
  const lines = contenders.map(() => 0);
  for (let round = 0; round < FULL_RUNS; round++) {
    contenders.forEach(([, run], i) => {
      const [t, n] = run();
      times[i].push(t);
      lines[i] = n;
    });
  }
  contenders.forEach(([name], i) => {
    const note = name.startsWith('C ceiling') ? 'newlines counted, no classification (includes starting wc, ~1 ms)' : `${lines[i]} lines, records for each`;
    rows.push(`| ${name} | ${gbps(median(times[i]))} | ${gbps(Math.min(...times[i]))} | ${note} |`);
  });
  // The naive reader runs last: its strings of hundreds of MiB would leave the garbage
  // collector busy during the microsecond timings below.
  const naiveAt = rows.length;
  closeSync(fd);

  rows.push('', '| incremental: append 1 line, scan from the saved offset | ' + sizes.map(([label]) => label).join(' | ') + ' |', '| --- |' + ' ---: |'.repeat(sizes.length));
  const findRows = [];
  for (const [name, engine] of engines) {
    const scanCells = [];
    const findCells = [];
    for (const [, path] of sizes) {
      const append = openSync(path, 'a');
      const read = openSync(path, 'r');
      let offset = 0;
      for (let r = engine.scan(read, 0); ; r = engine.scan(read, offset)) {
        if (r.nextOffset === offset) break;
        offset = r.nextOffset;
      }
      const times = [];
      const finds = [];
      let index = nextIndex.get(path);
      for (let run = -WARMUP_RUNS; run < INCREMENTAL_RUNS; run++) {
        // Turns alternate as in a real log: request N, then its response.
        writeSync(append, run % 2 === 0 ? requestLine(index, 1024) : responseLine(index++));
        const t0 = now();
        const r = engine.scan(read, offset);
        if (run >= 0) times.push(seconds(t0) * 1e6);
        if (r.count !== 1) throw new Error(`expected the appended line, got ${r.count} lines`);
        offset = r.nextOffset;
        const t1 = now();
        const last = engine.findLast(read, KindMask.Request | KindMask.SessionEnd);
        const latestResponse = engine.findLast(read, KindMask.Response);
        if (run >= 0) finds.push(seconds(t1) * 1e6);
        if (last?.index !== index - (run % 2 === 0 ? 0 : 1) || latestResponse?.index !== index - 1) throw new Error('findLast missed the latest lines');
      }
      nextIndex.set(path, index);
      closeSync(append);
      closeSync(read);
      scanCells.push(median(times).toFixed(1));
      findCells.push(median(finds).toFixed(1));
    }
    rows.push(`| ${name} engine, µs | ${scanCells.join(' | ')} |`);
    findRows.push(`| ${name} engine, µs | ${findCells.join(' | ')} |`);
  }
  rows.push('', '| findLast: latest request-or-session-end + latest response | ' + sizes.map(([label]) => label).join(' | ') + ' |', '| --- |' + ' ---: |'.repeat(sizes.length), ...findRows);
  const naiveRows = [];
  try {
    naiveScan(big);
    naiveRows.push('| naive: whole file as one string + split | ? | ? | unexpectedly fit in one string |');
  } catch (err) {
    naiveRows.push(`| naive: whole file as one string + split | fails | fails | ${err.code ?? err.message}: a string cannot exceed ~512 MiB |`);
  }
  const prefix = Math.min(256 * MiB, size);
  const naive = Array.from({ length: 3 }, () => naiveScan(big, prefix)[0]);
  const naiveGbps = (t) => (prefix / t / 1e9).toFixed(2);
  naiveRows.push(`| naive on a ${(prefix / MiB).toFixed(0)} MiB prefix (readSync + toString + split) | ${naiveGbps(median(naive))} | ${naiveGbps(Math.min(...naive))} | what each poll costs the reference, per byte of log |`);
  rows.splice(naiveAt, 0, ...naiveRows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const cpu = cpus();
console.log(`### bench/scan: log scanning, ${new Date().toISOString().slice(0, 10)}`);
console.log(`Node ${process.version}, ${cpu[0]?.model.trim()} x${cpu.length}, warm page cache, full scans ${FULL_RUNS} rounds interleaved, incremental medians of ${INCREMENTAL_RUNS} runs${native ? '' : '; native engine not available'}.\n`);
console.log(rows.join('\n'));
