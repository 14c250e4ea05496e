import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, SandboxCommandError } from '../../src/errors.js';
import { LocalSandbox } from '../../src/sandbox/local-sandbox.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed orphan may linger as a zombie when PID 1 does not reap: count that as dead.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const gone = async (pid: number): Promise<boolean> => {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
};

describe('LocalSandbox', () => {
  let sandbox: LocalSandbox;
  beforeEach(() => {
    sandbox = new LocalSandbox();
  });
  afterEach(async () => {
    await sandbox.close();
  });

  it('runs commands with bash in a directory of its own under the temp dir', async () => {
    const result = await sandbox.run('pwd; echo $BASH_VERSION >&2; exit 7', { timeoutMs: 5000 });
    assert.equal(result.exitCode, 7);
    assert.equal(result.stdout.trim(), sandbox.workDir);
    assert.ok(sandbox.workDir.startsWith(tmpdir()));
    assert.match(result.stderr, /^\d+\./);
    assert.equal(result.timedOut, false);
  });

  it("puts a rock shim that runs this package's bin/rock.js first on PATH", async () => {
    const result = await sandbox.run('command -v rock; command -v rock-model-service; cat "$(command -v rock)"', { timeoutMs: 5000 });
    const [rock, alias] = result.stdout.split('\n');
    assert.equal(rock, join(sandbox.workDir, '.local-sandbox', 'bin', 'rock'));
    assert.equal(alias, join(sandbox.workDir, '.local-sandbox', 'bin', 'rock-model-service'));
    assert.ok(result.stdout.includes(process.execPath));
    assert.ok(result.stdout.includes(fileURLToPath(new URL('../../bin/rock.js', import.meta.url))));
  });

  it('gives the model service a data dir inside the sandbox unless told otherwise', async () => {
    const result = await sandbox.run('echo "$ROCK_MODEL_SERVICE_DATA_DIR"', { timeoutMs: 5000 });
    assert.equal(result.stdout.trim(), join(sandbox.workDir, 'data', 'logs'));
    const other = new LocalSandbox({ env: { ROCK_MODEL_SERVICE_DATA_DIR: '/elsewhere', GREETING: 'hi' } });
    try {
      const told = await other.run('echo "$ROCK_MODEL_SERVICE_DATA_DIR $GREETING $EXTRA"', { timeoutMs: 5000, env: { EXTRA: 'x' } });
      assert.equal(told.stdout.trim(), '/elsewhere hi x');
    } finally {
      await other.close();
    }
  });

  it('kills the whole process group when a command passes its timeout', async () => {
    const started = Date.now();
    const result = await sandbox.run('sleep 30 & echo $! > child.pid; wait', { timeoutMs: 300 });
    assert.ok(Date.now() - started < 5000);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    const childPid = Number(readFileSync(join(sandbox.workDir, 'child.pid'), 'utf8'));
    for (let i = 0; i < 50 && alive(childPid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(childPid), false, 'the background sleep survived the timeout');
  });

  it('returns when the shell exits even if a background process keeps its output open', async () => {
    const started = Date.now();
    const result = await sandbox.run('sleep 5 & echo $! > bg.pid; echo done', { timeoutMs: 10_000 });
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'done\n');
    process.kill(Number(readFileSync(join(sandbox.workDir, 'bg.pid'), 'utf8')), 'SIGKILL');
  });

  it('keeps several megabytes of output whole, multi-byte characters included', async () => {
    const result = await sandbox.run(`node -e "process.stdout.write('é'.repeat(3_000_000))"`, { timeoutMs: 10_000 });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout.length, 3_000_000);
    assert.ok(/^é+$/.test(result.stdout));
  });

  it('rejects a command over the kernel argument limit with a SandboxCommandError that says so', async () => {
    await assert.rejects(sandbox.run(`echo ${'x'.repeat(200_000)}`, { timeoutMs: 5000 }), (e: unknown) => {
      assert.ok(e instanceof SandboxCommandError);
      assert.match(e.message, /E2BIG.*argument limit/);
      return true;
    });
  });

  it('uploads content and local files, relative paths inside the work dir, creating directories', async () => {
    await sandbox.upload({ content: 'héllo\n' }, 'deep/er/a.txt');
    assert.equal(readFileSync(join(sandbox.workDir, 'deep/er/a.txt'), 'utf8'), 'héllo\n');
    const outside = makeTempDir('upload');
    try {
      writeFileSync(join(outside, 'src.bin'), Buffer.from([0, 1, 2, 255]));
      await sandbox.upload({ localPath: join(outside, 'src.bin') }, join(outside, 'copy/dst.bin'));
      assert.deepEqual([...readFileSync(join(outside, 'copy/dst.bin'))], [0, 1, 2, 255]);
      const seen = await sandbox.run('cat deep/er/a.txt', { timeoutMs: 5000 });
      assert.equal(seen.stdout, 'héllo\n');
    } finally {
      removeDir(outside);
    }
  });

  it('removes the directory it created on close, and leaves a given one', async () => {
    const own = new LocalSandbox();
    await own.close();
    assert.equal(existsSync(own.workDir), false);
    const given = makeTempDir('given');
    try {
      const borrowed = new LocalSandbox({ workDir: given });
      await borrowed.close();
      assert.equal(existsSync(given), true);
    } finally {
      removeDir(given);
    }
  });

  describe('what it started, it kills', () => {
    it('kills at a timeout what the command started in a session of its own (setsid)', async () => {
      const result = await sandbox.run('setsid sleep 30 & echo $! > escaped.pid; wait', { timeoutMs: 300 });
      assert.equal(result.timedOut, true);
      assert.ok(await gone(Number(readFileSync(join(sandbox.workDir, 'escaped.pid'), 'utf8'))), 'the setsid sleep survived the timeout');
    });

    it('kills on close() the background jobs its commands left, setsid and double forks included', async () => {
      await sandbox.run('nohup sleep 30 > /dev/null 2>&1 & echo $! > bg.pid', { timeoutMs: 5000 });
      await sandbox.run('setsid sleep 31 > /dev/null 2>&1 < /dev/null & echo $! > setsid.pid', { timeoutMs: 5000 });
      await sandbox.run('( ( sleep 32 > /dev/null 2>&1 & echo $! > daemon.pid ) & )', { timeoutMs: 5000 });
      const pids = ['bg.pid', 'setsid.pid', 'daemon.pid'].map((f) => Number(readFileSync(join(sandbox.workDir, f), 'utf8')));
      assert.ok(pids.every(alive), 'the background jobs did not start');
      await sandbox.close();
      for (const pid of pids) assert.ok(await gone(pid), `pid ${pid} survived close()`);
    });

    it('leaves alone processes it did not start, those of another sandbox included', async () => {
      const other = new LocalSandbox();
      const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        await other.run('nohup sleep 33 > /dev/null 2>&1 & echo $! > bg.pid', { timeoutMs: 5000 });
        const neighbour = Number(readFileSync(join(other.workDir, 'bg.pid'), 'utf8'));
        await sandbox.run('nohup sleep 34 > /dev/null 2>&1 &', { timeoutMs: 5000 });
        await sandbox.close();
        assert.ok(alive(stranger.pid!), 'a process of the test itself was killed');
        assert.ok(alive(neighbour), "another sandbox's process was killed");
      } finally {
        stranger.kill('SIGKILL');
        await other.close();
      }
    });

    it('does not fire a timeout past 2^31 ms at once', async () => {
      const result = await sandbox.run('sleep 0.3; echo done', { timeoutMs: 2 ** 31 + 1000 });
      assert.equal(result.timedOut, false);
      assert.equal(result.stdout, 'done\n');
    });
  });

  describe('uploads stay where they are meant to', () => {
    it('refuses a relative path that leads out of the sandbox directory, writing nothing', async () => {
      const before = existsSync(join(sandbox.workDir, '..', 'x'));
      for (const path of ['../../x', '../x', 'a/../../x']) {
        await assert.rejects(sandbox.upload({ content: 'x' }, path), (e: unknown) => e instanceof InvalidArgumentError && /leads out of the sandbox directory/.test(e.message));
      }
      assert.equal(existsSync(join(sandbox.workDir, '..', 'x')), before);
      await sandbox.upload({ content: 'ok' }, 'a/../inside.txt');
      assert.equal(readFileSync(join(sandbox.workDir, 'inside.txt'), 'utf8'), 'ok');
    });

    it('refuses a relative path through a symlink that leads out, and writing through a symlink anywhere', async () => {
      const outside = makeTempDir('upload-target');
      try {
        symlinkSync(outside, join(sandbox.workDir, 'link'));
        await assert.rejects(sandbox.upload({ content: 'x' }, 'link/passwd'), /passes through a symlink out of the sandbox directory/);
        writeFileSync(join(outside, 'victim'), 'keep');
        symlinkSync(join(outside, 'victim'), join(sandbox.workDir, 'file-link'));
        await assert.rejects(sandbox.upload({ content: 'x' }, 'file-link'), /is a symlink; refusing to write through it/);
        await assert.rejects(sandbox.upload({ content: 'x' }, join(sandbox.workDir, 'file-link')), /is a symlink/);
        assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'keep');
        assert.deepEqual(existsSync(join(outside, 'passwd')), false);
      } finally {
        removeDir(outside);
      }
    });

    it('keeps the mode of a copied file (an executable stays executable), and writes content private', async () => {
      const source = join(sandbox.workDir, 'tool.sh');
      writeFileSync(source, '#!/bin/sh\necho tool 1.2.3\n');
      chmodSync(source, 0o755);
      await sandbox.upload({ localPath: source }, 'bin/tool');
      assert.equal(statSync(join(sandbox.workDir, 'bin/tool')).mode & 0o777, 0o755);
      assert.equal((await sandbox.run('bin/tool', { timeoutMs: 5000 })).stdout, 'tool 1.2.3\n');
      await sandbox.upload({ content: 'secret' }, 'secret.json');
      assert.equal(statSync(join(sandbox.workDir, 'secret.json')).mode & 0o777, 0o600);
    });
  });

  it('gives commands a TMPDIR inside the sandbox', async () => {
    const result = await sandbox.run('echo "$TMPDIR"; mktemp', { timeoutMs: 5000 });
    const [dir, file] = result.stdout.trim().split('\n');
    assert.ok(dir!.startsWith(sandbox.workDir), dir);
    assert.ok(file!.startsWith(dir!), file);
  });
});

