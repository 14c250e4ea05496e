// What does proxy mode add over calling the upstream directly? Added p50 latency and the
// throughput ratio, plain and streamed, at 1 and 64 concurrent clients (targets: <= 1 ms,
// >= 0.8x). Upstream, proxy (dist/, recording on, as in production) and clients run in
// three processes. Two upstreams: "instant" answers at once (pure overhead, CPU-bound on a
// small machine) and "llm-like" takes 20 ms per answer, or streams 20 chunks 5 ms apart
// (a fast model's 200 tokens/s). The proxy's own CPU time per call is reported too: it
// does not depend on how busy the machine is. The "Messages, translated" rows send Anthropic
// Messages calls that the proxy translates to the upstream's Chat Completions and back (chunk by
// chunk when streamed), beside the same upstream called directly with Chat Completions.
// Run: npm run build:ts && node bench/proxy.mjs [seconds per cell, default 3]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const STREAM_CHUNKS = 20;

if (process.argv[2] === '--upstream') serveUpstream();
else if (process.argv[2] === '--proxy') await serveProxy(process.argv[3]);
else await main(Number(process.argv[2] ?? 3));

function serveUpstream() {
  const completion = JSON.stringify({
    id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(150) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 2000, completion_tokens: 150, total_tokens: 2150 },
  });
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const events = [chunk({ role: 'assistant', content: '' }), ...Array.from({ length: STREAM_CHUNKS - 1 }, () => chunk({ content: 'word '.repeat(8) })), chunk({}, 'stop'), 'data: [DONE]\n\n'];
  const server = http.createServer((req, res) => {
    const delayed = req.url.startsWith('/llm-like');
    req.resume();
    req.on('end', () => {
      if (!req.headers['x-bench-stream']) {
        const send = () => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
          res.end(completion);
        };
        return delayed ? setTimeout(send, 20) : send();
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (!delayed) {
        for (const e of events) res.write(e);
        return res.end();
      }
      let i = 0;
      const next = () => (i === events.length - 1 ? res.end(events[i]) : (res.write(events[i++]), setTimeout(next, 5)));
      next();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

async function serveProxy(upstreamPort) {
  const { startServer } = await import('../dist/index.js');
  const dir = mkdtempSync(join(os.tmpdir(), 'rms-bench-proxy-'));
  const server = await startServer({
    type: 'proxy', host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'warn',
    // Routed by model, so one proxy reaches both upstreams.
    proxyRules: { instant: `http://127.0.0.1:${upstreamPort}/instant`, 'llm-like': `http://127.0.0.1:${upstreamPort}/llm-like` },
    recordingFile: join(dir, 'rec.jsonl'),
  });
  process.on('message', () => process.send({ cpu: process.cpuUsage() }));
  process.on('disconnect', async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  process.send({ port: server.port });
}

function proxyCpuMicros(proxy) {
  proxy.proc.send('cpu');
  return new Promise((resolve) => proxy.proc.once('message', (m) => resolve(m.cpu.user + m.cpu.system)));
}

function child(args) {
  const proc = spawn(process.execPath, [self, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve({ proc, port: m.port }));
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

function requestBody(model, stream, turns = 20, api = 'chat') {
  const messages = Array.from({ length: turns }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} `.repeat(40) }));
  const maxTokens = api === 'messages' ? { max_tokens: 1024 } : {};
  return Buffer.from(JSON.stringify({ model, ...maxTokens, messages, ...(stream ? { stream: true } : {}) }));
}

function call(agent, port, path, body, stream) {
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'content-length': body.length };
  if (stream) headers['x-bench-stream'] = '1';
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Latency p50 and throughput of `clients` closed-loop clients; with `proxy`, its CPU time per call too. */
async function measure(port, path, { kind, stream, clients, seconds, turns, proxy, api }) {
  const body = requestBody(kind, stream, turns, api);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const run = async (ms) => {
    const latencies = [];
    const until = performance.now() + ms;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) latencies.push(await call(agent, port, path, body, stream));
      }),
    );
    return { latencies, elapsed: performance.now() - started };
  };
  await run(500);
  const cpuBefore = proxy ? await proxyCpuMicros(proxy) : 0;
  const { latencies, elapsed } = await run(seconds * 1000);
  const cpuMicrosPerCall = proxy ? ((await proxyCpuMicros(proxy)) - cpuBefore) / latencies.length : undefined;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(latencies.length / 2)], rps: (latencies.length / elapsed) * 1000, cpuMicrosPerCall };
}

async function main(seconds) {
  const upstream = await child(['--upstream']);
  const proxy = await child(['--proxy', String(upstream.port)]);
  const rows = [];
  const loadBefore = os.loadavg()[0];
  try {
    for (const kind of ['instant', 'llm-like']) {
      for (const stream of [false, true]) {
        for (const clients of [1, 64]) {
          const cell = { kind, stream, clients, seconds };
          const direct = await measure(upstream.port, `/${kind}/chat/completions`, cell);
          const viaProxy = await measure(proxy.port, '/v1/chat/completions', { ...cell, proxy });
          rows.push({ kind, mode: stream ? 'stream' : 'plain', clients, direct, viaProxy });
          const translated = await measure(proxy.port, '/v1/messages', { ...cell, proxy, api: 'messages' });
          rows.push({ kind, mode: `${stream ? 'stream' : 'plain'}, Messages translated`, clients, direct, viaProxy: translated });
          process.stderr.write('.');
        }
      }
    }
    // RL conversations reach megabytes: one row with a 1 MiB request.
    const big = { kind: 'instant', stream: false, clients: 1, seconds, turns: 2600 };
    const direct = await measure(upstream.port, '/instant/chat/completions', big);
    const viaProxy = await measure(proxy.port, '/v1/chat/completions', { ...big, proxy });
    rows.push({ kind: 'instant', mode: 'plain, 1 MiB request', clients: 1, direct, viaProxy });
  } finally {
    proxy.proc.disconnect();
    upstream.proc.kill();
  }
  process.stderr.write('\n');
  const f = (n, d = 2) => n.toFixed(d);
  const lines = [
    `Proxy overhead, ${new Date().toISOString().slice(0, 16)}Z: Node ${process.version}, ${os.cpus()[0]?.model.trim()} x${os.cpus().length}, ` +
      `${seconds} s per cell, recording on, load average ${loadBefore.toFixed(1)} before / ${os.loadavg()[0].toFixed(1)} after`,
    '',
    '| upstream | mode | clients | direct p50 ms | proxy p50 ms | added p50 ms | direct req/s | proxy req/s | ratio | proxy CPU µs/call |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.kind} | ${r.mode} | ${r.clients} | ${f(r.direct.p50)} | ${f(r.viaProxy.p50)} | ${f(r.viaProxy.p50 - r.direct.p50)} | ${f(r.direct.rps, 0)} | ${f(r.viaProxy.rps, 0)} | ${f(r.viaProxy.rps / r.direct.rps)}x | ${f(r.viaProxy.cpuMicrosPerCall, 0)} |`,
    ),
  ];
  console.log(lines.join('\n'));
}
