import assert from 'node:assert/strict';
import { requireBuiltCli, runCli } from '../helpers/cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('rock model-service status: the scanner and why', () => {
  let cwd: string;
  before(requireBuiltCli);
  beforeEach(() => {
    cwd = makeTempDir('rms-status-');
  });
  afterEach(() => removeDir(cwd));

  it('says which scanner this installation loads, whether its fault guard is installed, and why it fell back', async () => {
    const env = { ROCK_MODEL_SERVICE_DATA_DIR: cwd };
    const forcedTs = JSON.parse((await runCli(['model-service', 'status', '--json'], { cwd, env: { ...env, ROCK_MS_SCANNER: 'ts' } })).stdout);
    assert.equal(forcedTs.scanner, 'ts');
    assert.equal(forcedTs.scanner_fault_guard, 'not-needed');
    assert.equal(forcedTs.scanner_fallback, undefined, 'choosing TypeScript on purpose is no fallback');
    const chosen = JSON.parse((await runCli(['model-service', 'status', '--json'], { cwd, env })).stdout);
    if (chosen.scanner === 'native') assert.equal(chosen.scanner_fault_guard, 'installed');
    else assert.match(chosen.scanner_fallback, /.+/, 'a TypeScript scanner by default says why');
  });
});
