import assert from 'node:assert/strict';
import { readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrajectoryWriter } from '../../src/server/trajectory.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('server: TrajectoryWriter', () => {
  let dir: string;
  let path: string;
  let errors: unknown[];
  const writer = (append: boolean): TrajectoryWriter => new TrajectoryWriter(path, append, (err) => errors.push(err));

  beforeEach(() => {
    dir = makeTempDir('trajectory');
    path = join(dir, 'LLMTraj.jsonl');
    errors = [];
  });
  afterEach(() => removeDir(dir));

  it('writes a record on the turn after it is given, not while the answer is being sent', async () => {
    const trajectory = writer(true);
    trajectory.record('{"n":1}', '{"r":1}');
    assert.throws(() => readFileSync(path), { code: 'ENOENT' });
    await nextTurn();
    assert.equal(readFileSync(path, 'utf8'), '{"request":{"n":1},"response":{"r":1}}\n');
    trajectory.close();
  });

  it('keeps only the latest record in overwrite mode, shorter or longer than the one before', async () => {
    const trajectory = writer(false);
    trajectory.record('{"long":"xxxxxxxxxxxxxxxxxxxx"}', '{"r":1}');
    await nextTurn();
    trajectory.record('{"n":2}', '{"r":2}');
    trajectory.record('{"n":3}', '{"r":3}');
    await nextTurn();
    assert.equal(readFileSync(path, 'utf8'), '{"request":{"n":3},"response":{"r":3}}\n');
    trajectory.close();
    assert.deepEqual(errors, []);
  });

  it('follows the path when the file is deleted, renamed away or replaced while the service runs', async () => {
    const trajectory = writer(true);
    trajectory.record('{"n":1}', '{"r":1}');
    await nextTurn();
    unlinkSync(path);
    trajectory.record('{"n":2}', '{"r":2}');
    await nextTurn();
    assert.equal(readFileSync(path, 'utf8'), '{"request":{"n":2},"response":{"r":2}}\n');
    renameSync(path, join(dir, 'kept.jsonl'));
    writeFileSync(path, 'fresh\n');
    trajectory.record('{"n":3}', '{"r":3}');
    trajectory.close();
    assert.equal(readFileSync(path, 'utf8'), 'fresh\n{"request":{"n":3},"response":{"r":3}}\n');
    assert.equal(readFileSync(join(dir, 'kept.jsonl'), 'utf8'), '{"request":{"n":2},"response":{"r":2}}\n');
    assert.deepEqual(errors, []);
  });

  it('never writes through a symbolic link at its path: the record is reported as failed and the target is untouched', async () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, path);
    const trajectory = writer(false);
    trajectory.record('{"n":1}', '{"r":1}');
    await nextTurn();
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /symbolic link/);
    unlinkSync(path);
    trajectory.record('{"n":2}', '{"r":2}');
    trajectory.close();
    assert.equal(readFileSync(path, 'utf8'), '{"request":{"n":2},"response":{"r":2}}\n');
  });
});
