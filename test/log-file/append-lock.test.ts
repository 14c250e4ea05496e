import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAppendLock } from '../../src/log-file/append-lock.js';
import { processStartTime } from '../../src/process/process-state.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const APPEND_LOCK = new URL('../../src/log-file/append-lock.ts', import.meta.url).href;

describe('log-file: append lock', () => {
  let dir: string;
  let log: string;
  let lockFile: string;
  beforeEach(() => {
    dir = makeTempDir('append-lock');
    log = join(dir, 'LLMService.log');
    lockFile = `${log}.lock`;
    writeFileSync(log, '');
  });
  afterEach(() => removeDir(dir));

  it('runs the step holding a lock file that names this process, and removes it after', async () => {
    const seen = await withAppendLock(log, () => readFileSync(lockFile, 'utf8'));
    assert.equal(seen, `${process.pid} ${processStartTime(process.pid)}\n`);
    assert.equal(existsSync(lockFile), false);
    await assert.rejects(withAppendLock(log, () => {
      throw new Error('step failed');
    }), /step failed/);
    assert.equal(existsSync(lockFile), false);
  });

  it('takes over a lock file whose holder died, or whose pid now names another process', async () => {
    const dead = spawnSync('true').pid;
    for (const content of [`${dead} 12345\n`, `${process.pid} 1\n`]) {
      writeFileSync(lockFile, content);
      assert.equal(await withAppendLock(log, () => 'ran'), 'ran');
      assert.equal(existsSync(lockFile), false);
    }
  });

  it('waits for a fresh empty lock file (a holder about to write its pid), and takes over one left empty for over a second', async () => {
    writeFileSync(lockFile, '');
    const started = Date.now();
    setTimeout(() => {
      const past = new Date(Date.now() - 5000);
      utimesSync(lockFile, past, past);
    }, 300);
    assert.equal(await withAppendLock(log, () => 'ran'), 'ran');
    assert.ok(Date.now() - started >= 250, 'did not wait for the fresh file');
  });

  it('waits while a live process holds the lock, and goes on once it is killed with SIGKILL', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(lockFile, `${child.pid} ${processStartTime(child.pid!)}\n`);
    const started = Date.now();
    setTimeout(() => child.kill('SIGKILL'), 400);
    assert.equal(await withAppendLock(log, () => 'ran'), 'ran');
    assert.ok(Date.now() - started >= 350, 'ran while the holder was alive');
  });

  it('refuses a lock file that is a symbolic link', async () => {
    symlinkSync(join(dir, 'elsewhere'), lockFile);
    await assert.rejects(withAppendLock(log, () => 'ran'), { code: 'RMS_UNSAFE_PATH' });
    assert.equal(existsSync(join(dir, 'elsewhere')), false);
  });

  it('lets one process at a time run its step, taking over a stale lock once, across many processes', async function () {
    this.timeout(60_000);
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    writeFileSync(lockFile, `${spawnSync('true').pid} 1\n`);
    // Each step reads the counter, spins a few milliseconds, and writes it back plus one: two
    // steps at once would lose an update.
    const script = `
      import { readFileSync, writeFileSync } from 'node:fs';
      const { withAppendLock } = await import(${JSON.stringify(APPEND_LOCK)});
      for (let i = 0; i < 5; i++) {
        await withAppendLock(${JSON.stringify(log)}, () => {
          const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
          const until = Date.now() + 2;
          while (Date.now() < until);
          writeFileSync(${JSON.stringify(counter)}, String(n + 1));
        });
      }`;
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] }),
    );
    const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0]));
    assert.deepEqual(codes, Array(6).fill(0));
    assert.equal(readFileSync(counter, 'utf8'), '30');
    assert.equal(existsSync(lockFile), false);
  });
});
