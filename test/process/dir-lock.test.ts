import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lockDir, refuseIfHeld } from '../../src/process/dir-lock.js';

import { AlreadyRunningError } from '../../src/errors.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const DIR_LOCK = new URL('../../src/process/dir-lock.ts', import.meta.url).href;
/** tsx by its location: the children run in other working dirs, where `--import tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');

/** A process that holds `dir` until it is killed; resolves once it holds it. */
async function holder(dir: string, cwd: string): Promise<ChildProcess> {
  const script = `const { lockDir } = await import(${JSON.stringify(DIR_LOCK)}); await lockDir(${JSON.stringify(dir)}, 'the data dir'); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(data.toString().trim(), 'held');
  return child;
}

describe('process: dir-lock', () => {
  let dir: string;
  let cwd: string;
  beforeEach(() => {
    dir = makeTempDir('dir-lock');
    cwd = makeTempDir('dir-lock-cwd');
  });
  afterEach(() => {
    removeDir(dir);
    removeDir(cwd);
  });

  it('refuses a directory another process holds, naming its pid and working dir, and takes it once that process is killed with SIGKILL', async () => {
    const other = await holder(dir, cwd);
    try {
      const named =
        (path: string) =>
        (err: unknown): boolean =>
          (err as { code?: string }).code === 'RMS_ALREADY_RUNNING' &&
          (err as Error).message.includes(`the data dir ${path} is in use by the model service pid ${other.pid} (working dir ${cwd}, since `);
      await assert.rejects(lockDir(dir, 'the data dir'), named(dir));
      await assert.rejects(refuseIfHeld(dir, 'the data dir'), named(dir));
      // The same directory reached through a link is the same lock.
      symlinkSync(dir, join(cwd, 'link'));
      await assert.rejects(lockDir(join(cwd, 'link'), 'the data dir'), named(join(cwd, 'link')));
    } finally {
      other.kill('SIGKILL');
      await once(other, 'exit');
    }
    const lock = await lockDir(dir, 'the data dir');
    await lock.release();
  });

  it('refuses this process a directory it holds for the same purpose, shares it for another, and frees it after the last release', async () => {
    const first = await lockDir(dir, 'the data dir');
    await assert.rejects(lockDir(dir, 'the data dir'), (err: Error) => err instanceof AlreadyRunningError && new RegExp(`pid ${process.pid}`).test(err.message));
    await assert.rejects(refuseIfHeld(dir, 'the data dir'), AlreadyRunningError);
    const second = await lockDir(dir, 'the pid file directory');
    await first.release();
    await first.release();
    const script = `const { lockDir } = await import(${JSON.stringify(DIR_LOCK)}); try { await lockDir(${JSON.stringify(dir)}, 'the data dir'); console.log('took it'); } catch (e) { console.log(e.code); }`;
    const probe = async (): Promise<string> => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d));
      await once(child, 'exit');
      return out.trim();
    };
    assert.equal(await probe(), 'RMS_ALREADY_RUNNING');
    await second.release();
    assert.equal(await probe(), 'took it');
  });

  it('holds different directories independently', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    const other = await holder(a, cwd);
    try {
      const lock = await lockDir(b, 'the data dir');
      await lock.release();
    } finally {
      other.kill('SIGKILL');
    }
  });
});
