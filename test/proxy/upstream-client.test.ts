import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { resolveServiceConfig, type ServiceConfigInput } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import { HttpService } from '../../src/http/http-service.js';
import { envProxies, NoProxy, proxyFor } from '../../src/proxy/env-proxy.js';
import { registerProxyRoutes } from '../../src/proxy/index.js';
import { collect, requireBuiltCli, spawnCli } from '../helpers/cli.js';
import { LoadedModules } from '../helpers/loaded-modules.js';
import { COMPLETION, OutboundProxy, ScriptedUpstream, json, leavingPost, startProxyProcess } from './fixtures.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { freePort, listenOnLoopback } from '../helpers/loopback.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('proxy mode through the CLI with a config file, to an HTTPS upstream', function () {
  this.timeout(30_000);
  let dir: string;
  let upstream: Server;
  let service: ChildProcess | undefined;

  before(function () {
    // A throwaway certificate for 127.0.0.1 needs the openssl command; without it there is nothing to run.
    if (!hasOpenssl()) this.skip();
    requireBuiltCli();
  });

  beforeEach(async () => {
    dir = makeTempDir('proxy-https');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    upstream = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...COMPLETION, auth: req.headers.authorization }));
      });
    });
    await listenOnLoopback(upstream);
  });

  afterEach(async () => {
    if (service && service.exitCode === null) {
      service.kill('SIGTERM');
      await collect(service);
    }
    service = undefined;
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    removeDir(dir);
  });

  async function start(env: NodeJS.ProcessEnv, upstreams = [`proxy_base_url: https://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`]): Promise<string> {
    const port = await freePort();
    const config = join(dir, 'service.yaml');
    writeFileSync(
      config,
      [
        'type: proxy',
        'host: 127.0.0.1',
        `port: ${port}`,
        ...upstreams,
        `recording_file: ${join(dir, 'rec.jsonl')}`,
        'retry_max_attempts: 2',
        'retry_initial_delay: 0.01',
      ].join('\n'),
    );
    service = spawnCli(['model-service', 'start', '--foreground', '--config-file', config], {
      cwd: dir,
      env: { ROCK_MODEL_SERVICE_DATA_DIR: join(dir, 'data'), ...env },
    });
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return url;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the service did not become healthy');
  }

  const chat = (url: string, model = 'm') =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tls' },
      body: JSON.stringify({ model, messages: [] }),
    });

  it('reaches it through the CONNECT proxy that https_proxy names (before HTTPS_PROXY), and the hosts of no_proxy straight', async () => {
    const outbound = await OutboundProxy.start();
    try {
      const port = (upstream.address() as AddressInfo).port;
      const url = await start(
        { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'), https_proxy: outbound.url, HTTPS_PROXY: 'http://127.0.0.1:9', no_proxy: 'localhost' },
        ['proxy_rules:', `  tunnelled: https://127.0.0.1:${port}/v1`, `  direct: https://localhost:${port}/v1`],
      );
      for (const model of ['tunnelled', 'tunnelled', 'direct']) {
        const res = await chat(url, model);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { ...COMPLETION, auth: 'Bearer sk-tls' });
      }
      assert.deepEqual(outbound.calls.map((c) => [c.kind, c.target]), [['connect', `127.0.0.1:${port}`]], 'one tunnel, kept open for the second call');
    } finally {
      await outbound.close();
    }
  });

  it('forwards over TLS to an upstream whose certificate the process trusts', async () => {
    const url = await start({ NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
    const res = await chat(url);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ...COMPLETION, auth: 'Bearer sk-tls' });
  });

  it('answers 502 naming the certificate problem at once when the upstream is not trusted: no retry can fix it', async () => {
    const url = await start({ NODE_EXTRA_CA_CERTS: '' });
    const res = await chat(url);
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /certificate/i);
    assert.match(body.error.message, /gave up after 1 attempt/);
  });
});

describe('outbound proxy variables', () => {
  const url = (text: string) => new URL(text);

  it('reads http_proxy, https_proxy and all_proxy, lower case before upper case, an empty value as unset', () => {
    assert.equal(envProxies({}), undefined);
    assert.equal(envProxies({ HTTP_PROXY: '', https_proxy: ' ' }), undefined);
    const both = envProxies({ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2', HTTPS_PROXY: 'proxy.example:3128' })!;
    assert.equal(both.http!.href, 'http://lower:1/');
    assert.equal(both.https!.href, 'http://proxy.example:3128/', 'a proxy without a scheme is http://');
    const all = envProxies({ ALL_PROXY: 'http://all:9', https_proxy: 'https://secure:8' })!;
    assert.equal(all.http!.href, 'http://all:9/');
    assert.equal(all.https!.href, 'https://secure:8/');
  });

  it('refuses a SOCKS proxy or a value that is not a URL, naming the variable', () => {
    assert.throws(() => envProxies({ HTTPS_PROXY: 'socks5://127.0.0.1:1080' }), (err: ConfigError) => {
      assert.equal(err.code, 'RMS_CONFIG');
      assert.match(err.message, /HTTPS_PROXY names a socks5 proxy, which proxy mode does not support/);
      return true;
    });
    assert.throws(() => envProxies({ http_proxy: 'http://[::1' }), /http_proxy is not a URL/);
  });

  it('reaches the hosts of no_proxy directly: domains with their subdomains, addresses, CIDR blocks, ports, *', () => {
    const proxies = envProxies({ HTTP_PROXY: 'http://p:1', HTTPS_PROXY: 'http://p:1', NO_PROXY: 'internal.example, .corp.example,*.lab.example 10.0.0.0/8,::1,[fd00::1]:8443,api.example:8080' })!;
    const direct = (target: string) => proxyFor(proxies, url(target)) === undefined;
    assert.ok(direct('http://internal.example/v1'));
    assert.ok(direct('http://a.b.internal.example/v1'));
    assert.ok(!direct('http://notinternal.example/v1'), 'a suffix that is not a subdomain is proxied');
    assert.ok(direct('https://corp.example/v1') && direct('https://x.corp.example/v1') && direct('https://y.lab.example/v1'));
    assert.ok(direct('http://10.1.2.3:8000/v1') && !direct('http://11.1.2.3/v1'));
    assert.ok(direct('http://[::1]:8000/v1'));
    assert.ok(direct('https://[fd00::1]:8443/v1') && !direct('https://[fd00::1]/v1'));
    assert.ok(direct('http://api.example:8080/v1') && !direct('http://api.example/v1'));
    assert.ok(!direct('https://api.openai.com/v1'));
    assert.ok(new NoProxy('*').matches(url('https://anything.example/')));
    assert.ok(!new NoProxy('10.0.0.0/99, ,').matches(url('http://10.0.0.1/')), 'a bad block matches nothing');
  });
});

describe('proxy mode through an outbound proxy', () => {
  let upstream: ScriptedUpstream;
  let outbound: OutboundProxy;
  let dir: string;
  let running: { url: string; close(): Promise<void>; logs: Record<string, unknown>[] } | undefined;

  beforeEach(async () => {
    dir = makeTempDir('outbound-proxy');
    upstream = await ScriptedUpstream.start((call, res) => json(res, 200, { ...COMPLETION, auth: call.headers.authorization ?? null, proxyAuth: call.headers['proxy-authorization'] ?? null }));
    outbound = await OutboundProxy.start();
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
    await outbound.close();
    await upstream.close();
    removeDir(dir);
  });

  /** The proxy routes on a real HTTP service in this process, reading the proxy variables from `env`. */
  async function start(input: Partial<ServiceConfigInput>, env: NodeJS.ProcessEnv) {
    const logs: Record<string, unknown>[] = [];
    const keep = (level: string) => (obj: object, msg: string) => void logs.push({ level, msg, ...obj });
    const log = { info: keep('info'), warn: keep('warn'), error: keep('error'), debug() {} };
    const config = resolveServiceConfig({ type: 'proxy', dataDir: dir, recordingFile: join(dir, 'rec.jsonl'), retry: { maxAttempts: 2, initialDelayMs: 5 }, ...input }, {});
    const http = new HttpService({ log, bodyLimitBytes: 1 << 20, bodyTimeoutMs: 10_000, bodyBudgetBytes: 1 << 24, observe() {} });
    const proxy = await registerProxyRoutes(http, config, { registry: new Registry(), log, env });
    const { port } = await http.listen('127.0.0.1', 0);
    running = {
      url: `http://127.0.0.1:${port}`,
      logs,
      async close() {
        await proxy.close();
        await http.close(0);
      },
    };
    return running;
  }

  const chat = (service: { url: string }, model: string) =>
    fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-upstream' },
      body: JSON.stringify({ model, messages: [] }),
    });

  it('sends http:// calls to the proxy in absolute form with its credentials, and the hosts of NO_PROXY straight', async () => {
    const service = await start(
      { proxyRules: { proxied: `http://127.0.0.1:${upstream.port}/v1`, direct: `http://localhost:${upstream.port}/v1` } },
      { HTTP_PROXY: outbound.url.replace('http://', 'http://squid:pr0xy-pass@'), NO_PROXY: 'localhost' },
    );
    const proxied = await chat(service, 'proxied');
    assert.equal(proxied.status, 200);
    assert.deepEqual(await proxied.json(), { ...COMPLETION, auth: 'Bearer sk-upstream', proxyAuth: null });
    assert.equal((await chat(service, 'direct')).status, 200);
    assert.equal(upstream.calls.length, 2);
    assert.deepEqual(outbound.calls.map((c) => [c.kind, c.target]), [['forward', `http://127.0.0.1:${upstream.port}/v1/chat/completions`]]);
    assert.equal(outbound.calls[0]!.headers['proxy-authorization'], `Basic ${Buffer.from('squid:pr0xy-pass').toString('base64')}`);
    const started = service.logs.find((l) => l.msg === 'proxy mode: forwarding')!;
    assert.equal(started.httpProxy, outbound.url.replace('http://', 'http://***:***@') + '/');
    assert.equal(started.noProxy, 'localhost');
    assert.ok(!JSON.stringify(service.logs).includes('pr0xy-pass'));
  });

  it('keeps its connection to the proxy open across calls', async () => {
    const service = await start({ proxyBaseUrl: `http://127.0.0.1:${upstream.port}/v1` }, { http_proxy: outbound.url });
    for (let i = 0; i < 5; i++) assert.equal((await chat(service, 'm')).status, 200);
    assert.equal(outbound.calls.length, 5);
    assert.equal(outbound.connections, 1);
  });

  it('answers 502 naming the proxy when the proxy cannot be reached, and 504 when it never answers CONNECT', async () => {
    const dead = await OutboundProxy.start();
    const deadUrl = dead.url;
    await dead.close();
    let service = await start({ proxyBaseUrl: `http://127.0.0.1:${upstream.port}/v1` }, { HTTP_PROXY: deadUrl });
    const refused = await chat(service, 'm');
    assert.equal(refused.status, 502);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, new RegExp(`through the proxy ${deadUrl}/\\): connect ECONNREFUSED`));
    await running!.close();

    const held = new Set<Socket>();
    const silent = createNetServer((socket) => held.add(socket.on('error', () => {})));
    const port = await listenOnLoopback(silent);
    try {
      service = await start(
        { proxyBaseUrl: 'https://upstream.invalid/v1', requestTimeoutMs: 300 },
        { HTTPS_PROXY: `http://127.0.0.1:${port}` },
      );
      const started = Date.now();
      const stalled = await chat(service, 'm');
      assert.equal(stalled.status, 504);
      assert.match(((await stalled.json()) as { error: { message: string } }).error.message, /sent nothing for 0.3 s \(through the proxy/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('ends the call at once when its client leaves while the proxy has not answered CONNECT', async () => {
    const held = new Set<Socket>();
    const silent = createNetServer((socket) => held.add(socket.on('error', () => {})));
    const port = await listenOnLoopback(silent);
    try {
      const service = await start(
        { proxyBaseUrl: 'https://upstream.invalid/v1', requestTimeoutMs: 60_000 },
        { HTTPS_PROXY: `http://127.0.0.1:${port}` },
      );
      const req = leavingPost(`${service.url}/v1/chat/completions`, { model: 'm', messages: [] });
      while (held.size === 0) await new Promise((r) => setTimeout(r, 5));
      req.destroy();
      const started = Date.now();
      await running!.close();
      running = undefined;
      assert.ok(Date.now() - started < 2000, `close() took ${Date.now() - started} ms`);
      const [record] = (await readFile(join(dir, 'rec.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { status_code: number });
      assert.equal(record!.status_code, 499);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('refuses to start with a SOCKS proxy in the environment', async () => {
    await assert.rejects(start({ proxyBaseUrl: upstream.baseUrl }, { ALL_PROXY: 'socks5h://127.0.0.1:1080' }), /ALL_PROXY names a socks5h proxy/);
  });
});

describe('proxy mode start-up cost of the outbound proxy support', function () {
  this.timeout(30_000);
  let dir: string;

  before(requireBuiltCli);
  beforeEach(() => (dir = makeTempDir('proxy-startup')));
  afterEach(() => removeDir(dir));

  it('loads the proxy agents only when a proxy variable is set', async () => {
    const modules = new LoadedModules(dir);
    const clean = Object.fromEntries(['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'].map((name) => [name, '']));
    const agents = async (env: NodeJS.ProcessEnv) => {
      const watch = modules.watch();
      const service = await startProxyProcess(['proxy_base_url: http://127.0.0.1:9/v1'], { ...watch.env, ...clean, ...env });
      await service.close();
      const sources = [...watch.sources().values()].flat();
      assert.ok(sources.includes('src/proxy/forwarding-backend.ts'), 'the hook saw proxy mode load');
      return sources.filter((source) => /proxy-agent|agent-base|\/debug\//.test(source));
    };
    assert.deepEqual(await agents({}), []);
    const loaded = await agents({ HTTPS_PROXY: 'http://127.0.0.1:3128' });
    assert.ok(loaded.some((source) => source.includes('/https-proxy-agent/')), loaded.join('\n'));
  });
});
