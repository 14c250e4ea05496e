/**
 * ModelService installing the service with no registry in the sandbox: from the tarballs that
 * `npm pack` makes of this tree, and from a standalone executable (any executable that prints a
 * version, or the real single executable application when ROCK_MS_SEA names it). Slow: npm
 * installs the tarball's dependencies from its cache.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalSandbox } from '../../src/sandbox/local-sandbox.js';
import { ModelService } from '../../src/sandbox/model-service.js';
import type { ModelServiceConfigInput } from '../../src/sandbox/model-service-config.js';
import { shellQuote } from '../../src/sandbox/shell-quote.js';
import { freePort } from '../helpers/loopback.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { completionText } from '../helpers/chat-completion.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const quiet = { logger: { warn: () => {} } };

/** An agent in the sandbox: one chat call, its answer kept in answer.json, then it exits. */
const AGENT = `
import { writeFileSync } from 'node:fs';
const res = await fetch(process.env.OPENAI_BASE_URL + '/chat/completions', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
});
writeFileSync('answer.json', await res.text());
`;
const REPLY = completionText({ content: 'hello' });

/** Installs, starts, runs one agent turn to SESSION_END and stops the service with `rock` as installed. */
async function oneSession(sandbox: LocalSandbox, config: ModelServiceConfigInput, port: number): Promise<void> {
  const service = new ModelService(sandbox, { ...config, startCmd: `rock model-service start --type \${type} --host 127.0.0.1 --port ${port}`, loggingPath: join(sandbox.workDir, 'logs') }, quiet);
  await service.install();
  await service.start();
  try {
    await sandbox.upload({ content: AGENT }, 'agent.mjs');
    const launch = await sandbox.run(`${shellQuote(process.execPath)} agent.mjs > agent.log 2>&1 & echo $!`, { timeoutMs: 5000, env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` } });
    await service.watchAgent(Number(launch.stdout.trim()));
    assert.equal(JSON.parse(await service.antiCallLlm(0, undefined, { callTimeout: 20 })).messages[0].content, 'hi');
    assert.equal(await service.antiCallLlm(1, REPLY, { callTimeout: 20 }), 'SESSION_END');
    assert.deepEqual(JSON.parse(readFileSync(join(sandbox.workDir, 'answer.json'), 'utf8')), JSON.parse(REPLY));
  } finally {
    await service.stop();
  }
}

describe('ModelService installing without a registry', function () {
  this.timeout(300_000);
  let dir: string;
  let sandbox: LocalSandbox | undefined;
  beforeEach(() => {
    dir = makeTempDir('install-from');
  });
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    removeDir(dir);
  });

  it("installs from the tarball npm pack makes of this tree with npm install -g, and runs a session with the installed rock", async () => {
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO, encoding: 'utf8' });
    assert.equal(packed.status, 0, packed.stderr);
    const tarball = join(dir, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[])[0]!.filename);
    const prefix = join(dir, 'sandbox', 'npm-global');
    sandbox = new LocalSandbox({
      workDir: join(dir, 'sandbox'),
      rockOnPath: false,
      // npm install -g goes to this prefix instead of the machine's; its bin is first on PATH, as /usr/local/bin is in a sandbox.
      env: { npm_config_prefix: prefix, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` },
    });
    await oneSession(sandbox, { installFrom: { tarballs: [tarball] }, installTimeout: 240 }, await freePort());
    assert.equal((await sandbox.run('command -v rock', { timeoutMs: 5000 })).stdout.trim(), join(prefix, 'bin', 'rock'));
    const uploads = readdirSync(sandbox.env.TMPDIR!).filter((name) => name.startsWith('rock-model-service.'));
    assert.deepEqual(uploads, [], 'the uploaded tarball was left in the sandbox');
  });

  it('installs a standalone executable as rock and rock-model-service in installBinDir (ROCK_MS_SEA: the real one, with a session)', async () => {
    const real = process.env.ROCK_MS_SEA;
    const executable = real ?? join(dir, 'rock-sea');
    if (real === undefined) {
      writeFileSync(executable, '#!/bin/sh\necho "rock-model-service 0.1.0 (stand-in for the single executable)"\n');
      chmodSync(executable, 0o755);
    }
    const bin = join(dir, 'sandbox', 'usr-local-bin');
    sandbox = new LocalSandbox({ workDir: join(dir, 'sandbox'), rockOnPath: false, env: { PATH: `${bin}:${process.env.PATH}` } });
    const config: ModelServiceConfigInput = { installFrom: { executable }, installBinDir: bin };
    if (real !== undefined) {
      await oneSession(sandbox, config, await freePort());
    } else {
      await new ModelService(sandbox, config, quiet).install();
    }
    assert.equal(statSync(join(bin, 'rock')).mode & 0o777, 0o755);
    for (const name of ['rock', 'rock-model-service']) {
      const version = await sandbox.run(`${name} --version`, { timeoutMs: 10_000 });
      assert.equal(version.exitCode, 0, version.stderr);
      assert.match(version.stdout, /\d+\.\d+\.\d+/);
    }
    assert.equal((await sandbox.run('command -v rock', { timeoutMs: 5000 })).stdout.trim(), join(bin, 'rock'));
  });

  it('says which file it could not upload', async () => {
    sandbox = new LocalSandbox({ workDir: join(dir, 'sandbox') });
    const missing = join(dir, 'absent.tgz');
    await assert.rejects(new ModelService(sandbox, { installFrom: { tarballs: [missing] } }, quiet).install(), new RegExp(`could not upload ${missing}`));
  });
});
