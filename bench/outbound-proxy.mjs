// What does honouring HTTP(S)_PROXY cost proxy mode? (1) Start: importing the proxy agents
// (only done when a proxy variable is set), and the service's start to listening with and
// without HTTPS_PROXY. (2) Per call, p50 and req/s through the service: no proxy variable;
// a proxy variable whose no_proxy excludes the upstream (the route lookup only); and through
// a forward proxy (node:http, in its own process), beside the same forward proxy called
// without our service, so the proxy's own hop can be told from ours.
// Run: npm run build && node bench/outbound-proxy.mjs [seconds per cell, default 3]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const dist = new URL('../dist/', import.meta.url);
// The bundle puts the proxy agents in a lazily loaded chunk of their own, named with a hash.
const proxyAgentsChunk = () => new URL(`chunks/${readdirSync(new URL('chunks/', dist)).find((f) => f.startsWith('proxy-agents-'))}`, dist);

function serveUpstream() {
  const completion = JSON.stringify({
    id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(150) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 2000, completion_tokens: 150, total_tokens: 2150 },
  });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      res.end(completion);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

/** A forward proxy as squid is one: absolute-form requests in, a keep-alive pool to the upstream out. */
function serveForwardProxy() {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([n]) => !n.startsWith('proxy-')));
    const out = http.request(req.url, { method: req.method, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

async function serveService(upstreamPort) {
  const { startServer } = await import(new URL('index.js', dist));
  const dir = mkdtempSync(join(os.tmpdir(), 'rms-bench-outbound-'));
  const server = await startServer({
    type: 'proxy', host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'warn',
    proxyBaseUrl: `http://127.0.0.1:${upstreamPort}/v1`, recordingFile: join(dir, 'rec.jsonl'),
  });
  process.on('disconnect', async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  process.send({ port: server.port });
}

async function timeImport() {
  await import('node:https');
  const started = performance.now();
  await import(proxyAgentsChunk());
  console.log(performance.now() - started);
}

async function timeStart() {
  const started = performance.now();
  const { startServer } = await import(new URL('index.js', dist));
  const dir = mkdtempSync(join(os.tmpdir(), 'rms-bench-outbound-'));
  const server = await startServer({ type: 'proxy', host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'warn', proxyBaseUrl: 'http://127.0.0.1:9/v1' });
  console.log(performance.now() - started);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

function child(args, env = {}) {
  const proc = spawn(process.execPath, [self, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ proc, port: m.port }));
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

const NO_PROXY_VARS = { http_proxy: '', HTTP_PROXY: '', https_proxy: '', HTTPS_PROXY: '', all_proxy: '', ALL_PROXY: '', no_proxy: '', NO_PROXY: '' };

/** Median wall time each variant printed, over `runs` fresh processes per variant, run in turn so that load drifts alike. */
function mediansOfRuns(variants, runs) {
  const times = variants.map(() => []);
  for (let i = 0; i < runs; i++) {
    variants.forEach(({ args, env }, v) => {
      const r = spawnSync(process.execPath, [self, ...args], { env: { ...process.env, ...NO_PROXY_VARS, ...env }, encoding: 'utf8' });
      times[v].push(Number(r.stdout.trim()));
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

const body = Buffer.from(JSON.stringify({ model: 'bench', messages: Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `turn ${i} `.repeat(40) })) }));

function call(agent, port, path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(port, path, clients, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const run = async (ms) => {
    const latencies = [];
    const until = performance.now() + ms;
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < until) latencies.push(await call(agent, port, path));
    }));
    return { latencies, elapsed: performance.now() - started };
  };
  await run(300);
  const { latencies, elapsed } = await run(seconds * 1000);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { p50: latencies[latencies.length >> 1], rps: (latencies.length / elapsed) * 1000 };
}

async function main(seconds) {
  const loadBefore = os.loadavg()[0];
  const [importMs, startPlain, startProxied] = mediansOfRuns(
    [{ args: ['--import'], env: {} }, { args: ['--start'], env: {} }, { args: ['--start'], env: { HTTPS_PROXY: 'http://127.0.0.1:3128' } }],
    15,
  );
  const upstream = await child(['--upstream']);
  const forward = await child(['--forward-proxy']);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}/v1/chat/completions`;
  const services = {
    'no proxy variable': await child(['--service', String(upstream.port)], NO_PROXY_VARS),
    'HTTP_PROXY set, upstream in no_proxy': await child(['--service', String(upstream.port)], { ...NO_PROXY_VARS, HTTP_PROXY: `http://127.0.0.1:${forward.port}`, NO_PROXY: '127.0.0.1' }),
    'through the forward proxy': await child(['--service', String(upstream.port)], { ...NO_PROXY_VARS, HTTP_PROXY: `http://127.0.0.1:${forward.port}` }),
  };
  const rows = [];
  try {
    for (const clients of [1, 64]) {
      rows.push({ path: 'upstream direct (no service)', clients, ...(await measure(upstream.port, '/v1/chat/completions', clients, seconds)) });
      rows.push({ path: 'forward proxy alone (no service)', clients, ...(await measure(forward.port, upstreamUrl, clients, seconds)) });
      for (const [name, service] of Object.entries(services)) rows.push({ path: `service, ${name}`, clients, ...(await measure(service.port, '/v1/chat/completions', clients, seconds)) });
      process.stderr.write('.');
    }
  } finally {
    for (const service of Object.values(services)) service.proc.disconnect();
    upstream.proc.kill();
    forward.proc.kill();
  }
  process.stderr.write('\n');
  const f = (n, d = 2) => n.toFixed(d);
  console.log([
    `Outbound proxy cost, ${new Date().toISOString().slice(0, 16)}Z: Node ${process.version}, ${os.cpus()[0]?.model.trim()} x${os.cpus().length}, ` +
      `${seconds} s per cell, load average ${loadBefore.toFixed(1)} before / ${os.loadavg()[0].toFixed(1)} after`,
    '',
    `Start (medians of 15 processes): importing the proxy agents ${f(importMs, 1)} ms; proxy mode to listening ${f(startPlain, 1)} ms without a proxy variable, ${f(startProxied, 1)} ms with HTTPS_PROXY set.`,
    '',
    '| path | clients | p50 ms | req/s |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.path} | ${r.clients} | ${f(r.p50)} | ${f(r.rps, 0)} |`),
  ].join('\n'));
}

if (process.argv[2] === '--upstream') serveUpstream();
else if (process.argv[2] === '--forward-proxy') serveForwardProxy();
else if (process.argv[2] === '--service') await serveService(process.argv[3]);
else if (process.argv[2] === '--import') await timeImport();
else if (process.argv[2] === '--start') await timeStart();
else await main(Number(process.argv[2] ?? 3));
