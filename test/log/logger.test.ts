import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsafePathError } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { requireBuiltCli, runCli } from '../helpers/cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('log: the service log file', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('logger');
  });
  afterEach(() => removeDir(dir));

  it('appends JSON lines to a regular file, creating its directory', () => {
    const file = join(dir, 'logs', 'model_service.log');
    createLogger('info', file).info({ index: 1 }, 'request appended');
    const line = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(line.msg, 'request appended');
    assert.equal(line.index, 1);
  });

  it('refuses a service log that is a symbolic link, leaving its target untouched (the service runs as root)', () => {
    const target = join(dir, 'passwd-copy');
    writeFileSync(target, 'root:x:0:0\n');
    const link = join(dir, 'model_service.log');
    symlinkSync(target, link);
    assert.throws(() => createLogger('info', link), UnsafePathError);
    assert.equal(readFileSync(target, 'utf8'), 'root:x:0:0\n');
  });

  it('trace --html refuses to write through a symbolic link', async () => {
    requireBuiltCli();
    const target = join(dir, 'precious');
    writeFileSync(target, 'keep me');
    const link = join(dir, 'trace.html');
    symlinkSync(target, link);
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, 'SESSION_END\n');
    const result = await runCli(['model-service', 'trace', '--html', link, log]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /the --html file .*symbolic link/);
    assert.equal(readFileSync(target, 'utf8'), 'keep me');
  });
});
