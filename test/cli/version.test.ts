import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isHealthOf } from '../../src/process/service-health.js';
import { VERSION } from '../../src/version.js';
import { collect, PROJECT_ROOT, requireBuiltCli, ROCK_BIN, runCli } from '../helpers/cli.js';
import { parseStatus } from '../helpers/workspace.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('rock --version', () => {
  before(requireBuiltCli);

  it('is the version of package.json, in one place', () => {
    assert.equal(VERSION, (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  for (const args of [['--version'], ['-V'], ['model-service', '--version'], ['model-service', '-V']]) {
    it(`\`rock ${args.join(' ')}\` prints it and exits 0`, async () => {
      const result = await runCli(args);
      assert.deepEqual([result.code, result.stdout, result.stderr], [0, `${VERSION}\n`, '']);
    });
  }

  it('commander lists it in the help of rock and of rock model-service', async () => {
    for (const args of [['--help'], ['model-service', '--help']]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /-V, --version/);
    }
  });

  it('`rock-model-service --version` prints it too, and `status` names it', async () => {
    const dir = makeTempDir('version');
    try {
      symlinkSync(ROCK_BIN, join(dir, 'rock-model-service'));
      const result = await collect(spawn(process.execPath, [join(dir, 'rock-model-service'), '--version'], { stdio: ['ignore', 'pipe', 'pipe'] }));
      assert.deepEqual([result.code, result.stdout], [0, `${VERSION}\n`]);
      const status = await runCli(['model-service', 'status'], { cwd: dir, env: { ROCK_MODEL_SERVICE_DATA_DIR: dir } });
      assert.equal(parseStatus(status.stdout).version, VERSION);
    } finally {
      removeDir(dir);
    }
  });
});

describe('/health and start', () => {
  it('takes an answer for the child only when it carries the child\'s pid and start token', () => {
    assert.equal(isHealthOf('{"status":"healthy","version":"1","pid":7,"mode":"local","start_token":"t"}', 7, 't'), true);
    assert.equal(isHealthOf('{"status":"healthy"}', 7, 't'), false);
    assert.equal(isHealthOf('{"status":"healthy","pid":8,"start_token":"t"}', 7, 't'), false);
    assert.equal(isHealthOf('{"status":"healthy","pid":7,"start_token":"u"}', 7, 't'), false);
    assert.equal(isHealthOf('{"status":"starting","pid":7,"start_token":"t"}', 7, 't'), false);
    assert.equal(isHealthOf('not json', 7, 't'), false);
  });
});
