#!/usr/bin/env node
// Question: what does a sandbox pay to start the service? Launch → healthy (spawn to the first
// 200 from /health, polled every 2 ms) and idle RSS after 20 answered chat turns, for the
// `rock model-service start --foreground` of this checkout (and of the standalone executable
// when `npm run package` built it), side by side with the floors measured in the same run:
// `node -e 0` (spawn to exit) and a bare `node:http` server that answers at once. A second
// table prices each library the service could carry, bundled as the package bundles it.
// Beside RSS, the anonymous memory (/proc/PID/smaps_rollup): RSS also counts the pages of the
// node binary a process has touched, which every process running that binary shares, so the
// anonymous part is what one more sandbox adds to a host. --idle S samples RSS once more S seconds
// after the last turn, when V8 has had time for its idle-time GC (the runtime takes seconds a turn).
// Rounds are interleaved; medians. Needs `npm run build` (and `npm run package` for the
// executable row). Usage: node bench/startup.mjs [rounds] [--compare DIR ...] [--idle S]   (default
// 11 rounds; each --compare adds the CLI of another built checkout, e.g. a worktree of main, as a row)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seaExecutablePath } from '../scripts/sea-path.mjs';
import { childCpuMs, mean } from './support/child-cpu.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rock = join(root, 'bin', 'rock.js');
if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('build first: npm run build');
const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { compare: { type: 'string', multiple: true, default: [] }, idle: { type: 'string', default: '0' } } });
const rounds = Number(positionals[0] ?? 11);
const TURNS = 20;
const POLL_MS = 2;
const IDLE_MS = Number(flags.idle) * 1000;
const REPLY = '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}';
const BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });

const BARE_SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => {
  s.setHeader('content-type', 'application/json'); s.end(q.url === '/health' ? '{"status":"healthy"}' : ${JSON.stringify(REPLY)}); }); })
  .listen(Number(process.env.PORT), '127.0.0.1');`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One HTTP call without keep-alive; resolves with status and body, rejects on a connection error. */
function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU ms (user + system) process `pid` has used so far; /proc counts 10 ms clock ticks. */
const cpuMsOf = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** Anonymous memory of process `pid` in MB: its private heap and stacks, without the shared pages of the binary. */
const anonymousMb = (pid) => Number(/^Anonymous:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]) / 1024;

const rssMb = (pid, field = 'VmRSS') => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) / 1024;
};

/** The runtime's side of one turn, done with plain file I/O: wait for request `index`, append its response. */
async function answer(logFile, index) {
  const marker = `"index": ${index}}`;
  const compact = `"index":${index}}`;
  for (;;) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    if (text.includes(marker) || text.includes(compact)) break;
    await sleep(1);
  }
  appendFileSync(logFile, `LLM_RESPONSE_START${REPLY}LLM_RESPONSE_END{"timestamp": ${Date.now()}, "index": ${index}}\n`);
}

/** Spawns `command`, polls /health until 200; then `TURNS` chat calls, and the idle RSS. */
async function launch(command, args, { env = {}, chat }) {
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-startup-'));
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(command, args(port), {
    cwd: dir,
    env: { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: dir, ROCK_MS_LOG_LEVEL: 'warn', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    let healthyMs;
    while (healthyMs === undefined) {
      if (exited) throw new Error(`${command} exited before it was healthy: ${stderr}`);
      try {
        if ((await call(port, 'GET', '/health')).status === 200) healthyMs = performance.now() - t0;
      } catch {
        await sleep(POLL_MS);
      }
    }
    const cpuHealthy = cpuMsOf(child.pid);
    const rssHealthy = rssMb(child.pid);
    for (let i = 1; i <= TURNS; i++) {
      const reply = call(port, 'POST', '/v1/chat/completions', BODY);
      if (chat) await answer(join(dir, 'LLMService.log'), i);
      const { status, body } = await reply;
      if (status !== 200 || !body.includes('"ok"')) throw new Error(`turn ${i}: HTTP ${status} ${body}`);
    }
    await sleep(300);
    const idle = { rssIdle: rssMb(child.pid), anonIdle: anonymousMb(child.pid), rssPeak: rssMb(child.pid, 'VmHWM') };
    if (IDLE_MS > 0) {
      await sleep(IDLE_MS);
      idle.rssLater = rssMb(child.pid);
    }
    return { healthyMs, cpuHealthy, rssHealthy, ...idle };
  } finally {
    child.kill('SIGTERM');
    if (!exited) await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeNodeE0() {
  const cpu = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-e', '0']);
  if (r.status !== 0) throw new Error('node -e 0 failed');
  return { ms: performance.now() - t0, cpuMs: childCpuMs() - cpu };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (x, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));

const sea = seaExecutablePath(root);
const subjects = {
  'bare `node:http` server': { command: process.execPath, args: () => ['-e', BARE_SERVER], chat: false },
  '`rock model-service start --foreground` (bin/rock.js)': {
    command: process.execPath,
    args: (port) => [rock, 'model-service', 'start', '--foreground', '--host', '127.0.0.1', '--port', String(port)],
    chat: true,
  },
};
for (const other of flags.compare) {
  subjects[`the same, from ${other}`] = {
    command: process.execPath,
    args: (port) => [join(other, 'bin', 'rock.js'), 'model-service', 'start', '--foreground', '--host', '127.0.0.1', '--port', String(port)],
    chat: true,
  };
}
if (existsSync(sea)) {
  subjects['the same, standalone executable'] = {
    command: sea,
    args: (port) => ['model-service', 'start', '--foreground', '--host', '127.0.0.1', '--port', String(port)],
    chat: true,
  };
}

const results = { node: [] };
for (const name of Object.keys(subjects)) results[name] = [];
for (let k = 0; k < rounds; k++) {
  results.node.push(timeNodeE0());
  for (const [name, s] of Object.entries(subjects)) results[name].push(await launch(s.command, s.args, s));
}

console.log(`### Launch → healthy and idle RSS (median of ${rounds}, interleaved; ${TURNS} turns before the idle sample)\n`);
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString().slice(0, 10)}\n`);
const later = IDLE_MS > 0 ? [`RSS ${IDLE_MS / 1000} s later MB`] : [];
const memoryColumns = ['rssHealthy', 'rssIdle', 'anonIdle', 'rssPeak', ...(IDLE_MS > 0 ? ['rssLater'] : [])];
const headers = ['what', 'launch → healthy ms', 'vs bare server', 'mean CPU ms to healthy', 'RSS at healthy MB', 'idle RSS after 20 turns MB', 'of which anonymous MB', 'peak RSS MB', ...later];
console.log(`| ${headers.join(' | ')} |`);
console.log(`| --- |${' ---: |'.repeat(headers.length - 1)}`);
console.log(`| \`node -e 0\` (spawn to exit) | ${fmt(median(results.node.map((r) => r.ms)))} | - | ${fmt(mean(results.node.map((r) => r.cpuMs)))} | ${memoryColumns.map(() => '-').join(' | ')} |`);
const bare = median(results['bare `node:http` server'].map((r) => r.healthyMs));
for (const name of Object.keys(subjects)) {
  const rs = results[name];
  const ms = median(rs.map((r) => r.healthyMs));
  const cells = [fmt(ms), `${(ms / bare).toFixed(2)}x`, fmt(mean(rs.map((r) => r.cpuHealthy))), ...memoryColumns.map((k) => fmt(median(rs.map((r) => r[k]))))];
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
if (existsSync(sea)) console.log(`\nstandalone executable: ${sea}, ${(statSync(sea).size / 2 ** 20).toFixed(1)} MiB`);

// What each library costs once bundled: an ESM bundle that imports it and does the least the
// service would do with it, started and run to exit, against an empty bundle.
const esbuild = await import('esbuild').catch(() => undefined);
if (esbuild) {
  const libraries = {
    'empty bundle': '',
    'prom-client (registry, counter, gauge, histogram files)': `import Registry from 'prom-client/lib/registry.js'; import Counter from 'prom-client/lib/counter.js';
      import Gauge from 'prom-client/lib/gauge.js'; import Histogram from 'prom-client/lib/histogram.js';
      const r = new Registry(); new Counter({ name: 'c', help: 'c', registers: [r] }).inc(); new Gauge({ name: 'g', help: 'g', registers: [r] }).set(1);
      new Histogram({ name: 'h', help: 'h', registers: [r] }).observe(1); await r.metrics();`,
    'prom-client (those files + collectDefaultMetrics)': `import Registry from 'prom-client/lib/registry.js'; import Counter from 'prom-client/lib/counter.js';
      import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
      const r = new Registry(); collectDefaultMetrics({ register: r }); new Counter({ name: 'c', help: 'c', registers: [r] }).inc(); await r.metrics();`,
    'prom-client (its entry)': `import { Registry, Counter } from 'prom-client'; const r = new Registry(); new Counter({ name: 'c', help: 'c', registers: [r] }).inc(); await r.metrics();`,
    'pino (a logger to stderr)': `import pino from 'pino'; pino({ level: 'info' }, process.stderr).info('x');`,
    'yaml (parse)': `import { parse } from 'yaml'; parse('a: 1');`,
    'zod (an object schema)': `import { z } from 'zod'; z.object({ a: z.number() }).strict().parse({ a: 1 });`,
    'commander (one command)': `import { Command } from 'commander'; new Command('x').command('y').option('--z <z>').action(() => {}); `,
    'undici (EnvHttpProxyAgent, for HTTP_PROXY in proxy mode)': `import { EnvHttpProxyAgent } from 'undici'; new EnvHttpProxyAgent();`,
  };
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-libs-'));
  try {
    const files = {};
    for (const [name, code] of Object.entries(libraries)) {
      const file = join(dir, `${Object.keys(files).length}.mjs`);
      writeFileSync(join(dir, 'entry.mjs'), `${code}\nprocess.on('exit', () => process.stdout.write(String(process.memoryUsage().rss)));\n`);
      try {
        await esbuild.build({ entryPoints: [join(dir, 'entry.mjs')], bundle: true, platform: 'node', format: 'esm', outfile: file, nodePaths: [join(root, 'node_modules')], logLevel: 'silent',
          banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
        files[name] = file;
      } catch {
        // not installed here: no row
      }
    }
    const times = Object.fromEntries(Object.keys(files).map((n) => [n, []]));
    const cpu = Object.fromEntries(Object.keys(files).map((n) => [n, []]));
    const rss = Object.fromEntries(Object.keys(files).map((n) => [n, []]));
    for (let k = 0; k < rounds * 2; k++) {
      for (const [name, file] of Object.entries(files)) {
        const cpu0 = childCpuMs();
        const t0 = performance.now();
        const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
        times[name].push(performance.now() - t0);
        cpu[name].push(childCpuMs() - cpu0);
        rss[name].push(Number(r.stdout) / 2 ** 20);
      }
    }
    const base = median(times['empty bundle']);
    const baseCpu = mean(cpu['empty bundle']);
    const baseRss = median(rss['empty bundle']);
    console.log(`\n### What each library adds, bundled (esbuild, ESM; start to exit, ${rounds * 2} runs: wall median, CPU mean)\n`);
    console.log('| library | bundle KiB | wall ms | + wall ms over empty | CPU ms | + CPU ms | RSS at exit MB | + MB |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const name of Object.keys(files)) {
      const ms = median(times[name]);
      const cpuMs = mean(cpu[name]);
      const mb = median(rss[name]);
      console.log(`| ${name} | ${(statSync(files[name]).size / 1024).toFixed(0)} | ${fmt(ms)} | ${fmt(ms - base)} | ${fmt(cpuMs)} | ${fmt(cpuMs - baseCpu)} | ${fmt(mb)} | ${fmt(mb - baseRss)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
