/**
 * The test-time agent installer, on a small local package instead of the real agents: one
 * install per cache dir, shared by parallel processes, stale locks taken over, and a bad
 * install never left behind as a good one.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installAgent, type AgentPackage } from './agent-install.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const INSTALLER = fileURLToPath(new URL('./agent-install.ts', import.meta.url));

/** Packs a package whose binary prints `output` and exits `status`; returns it as an AgentPackage. */
function fakeAgent(dir: string, version: string, output: string, status = 0): AgentPackage {
  const source = join(dir, `source-${version}`);
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'package.json'), JSON.stringify({ name: 'rms-fake-agent', version, bin: { 'fake-agent': 'bin.js' } }));
  writeFileSync(join(source, 'bin.js'), `#!/usr/bin/env node\nconsole.log(${JSON.stringify(output)});\nprocess.exit(${status});\n`);
  chmodSync(join(source, 'bin.js'), 0o755);
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: source, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  return { name: 'rms-fake-agent', version, bin: 'fake-agent', spec: join(dir, tarball) };
}

/** Runs installAgent in a separate process; resolves with what it returned. */
function installInChild(pkg: AgentPackage, cacheRoot: string): Promise<{ installedNow: boolean; binPath: string }> {
  const script = `const { installAgent } = await import(${JSON.stringify(INSTALLER)}); const a = await installAgent(${JSON.stringify(pkg)}, { cacheRoot: ${JSON.stringify(cacheRoot)} }); console.log(JSON.stringify(a));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`installer process exited ${code}: ${err}`)))),
  );
}

describe('agent installer (test/support/agent-install.ts)', function () {
  this.timeout(60_000);
  let dir: string;
  let cacheRoot: string;

  beforeEach(() => {
    dir = makeTempDir('agent-install');
    cacheRoot = join(dir, 'cache');
  });

  afterEach(() => removeDir(dir));

  it('installs once, and a later call reuses the cache without running npm', async () => {
    const pkg = fakeAgent(dir, '1.2.3', '1.2.3');
    const first = await installAgent(pkg, { cacheRoot });
    assert.equal(first.installedNow, true);
    assert.ok(first.bytes > 0);
    assert.equal(execFileSync(first.binPath, { encoding: 'utf8' }).trim(), '1.2.3');
    rmSync(pkg.spec!);
    const second = await installAgent(pkg, { cacheRoot });
    assert.equal(second.installedNow, false, 'the second call installed again');
    assert.equal(second.binPath, first.binPath);
    assert.equal(second.installMs, first.installMs);
  });

  it('two processes asking at once: one installs, the other waits and reuses it', async () => {
    const pkg = fakeAgent(dir, '2.0.0', '2.0.0');
    const results = await Promise.all([installInChild(pkg, cacheRoot), installInChild(pkg, cacheRoot)]);
    assert.deepEqual(results.map((r) => r.installedNow).sort(), [false, true]);
    assert.equal(results[0]!.binPath, results[1]!.binPath);
    assert.deepEqual(readdirSync(cacheRoot), ['rms-fake-agent@2.0.0'], 'a lock or staging directory was left behind');
  });

  it('takes over a lock whose owner is dead', async () => {
    const pkg = fakeAgent(dir, '3.0.0', '3.0.0');
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('close', resolve));
    mkdirSync(join(cacheRoot, 'rms-fake-agent@3.0.0.lock'), { recursive: true });
    writeFileSync(join(cacheRoot, 'rms-fake-agent@3.0.0.lock', 'pid'), String(dead.pid));
    const installed = await installAgent(pkg, { cacheRoot, timeoutMs: 20_000 });
    assert.equal(installed.installedNow, true);
  });

  it('waits for a live owner, and its bound ends the wait with an error naming the lock', async () => {
    const pkg = fakeAgent(dir, '4.0.0', '4.0.0');
    mkdirSync(join(cacheRoot, 'rms-fake-agent@4.0.0.lock'), { recursive: true });
    writeFileSync(join(cacheRoot, 'rms-fake-agent@4.0.0.lock', 'pid'), String(process.pid));
    await assert.rejects(installAgent(pkg, { cacheRoot, timeoutMs: 600 }), /held .*rms-fake-agent@4\.0\.0\.lock/);
  });

  it('a binary that does not answer --version with its version fails the install and leaves nothing behind', async () => {
    const pkg = fakeAgent(dir, '5.0.0', 'a stub', 1);
    await assert.rejects(installAgent(pkg, { cacheRoot }), /could not install rms-fake-agent@5\.0\.0.*--version answered 1: a stub/s);
    assert.deepEqual(readdirSync(cacheRoot), [], 'a failed install left files in the cache');
    assert.equal(existsSync(join(cacheRoot, 'rms-fake-agent@5.0.0')), false);
  });
});
