import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { collect, freePort, makeTempDir, removeDir, requireBuiltCli, spawnCli } from '../helpers/cli.js';
import { COMPLETION } from './fixtures.js';

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
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    upstream = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...COMPLETION, auth: req.headers.authorization }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
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

  async function start(env: NodeJS.ProcessEnv): Promise<string> {
    const port = await freePort();
    const config = join(dir, 'service.yaml');
    writeFileSync(
      config,
      [
        'type: proxy',
        'host: 127.0.0.1',
        `port: ${port}`,
        `proxy_base_url: https://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
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

  const chat = (url: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-tls' },
      body: JSON.stringify({ model: 'm', messages: [] }),
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
