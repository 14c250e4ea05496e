import assert from 'node:assert/strict';
import { requireBuiltCli, runCli } from '../helpers/cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('config bounds through the CLI', () => {
  let cwd: string;
  before(requireBuiltCli);
  beforeEach(() => {
    cwd = makeTempDir('rms-cli-bounds-');
  });
  afterEach(() => removeDir(cwd));

  for (const [flags, message] of [
    [['--request-timeout', '0.0001'], /request_timeout \(--request-timeout\) must be a number of seconds from 0.001 s .*got 0.0001 s/],
    [['--request-timeout', '2592000'], /request_timeout \(--request-timeout\) must be .*about 24.8 days\), got 2592000 s/],
    [['--retryable-status-codes', '429,200'], /retryable_status_codes \(--retryable-status-codes\) must be error statuses from 400 to 599.*got 200/],
  ] as const) {
    it(`start ${flags.join(' ')} exits 2 with one line naming the key, and starts nothing`, async () => {
      const result = await runCli(['model-service', 'start', '--type', 'proxy', '--port', '0', ...flags], { cwd, env: { ROCK_MODEL_SERVICE_DATA_DIR: cwd } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.equal(result.stdout, '');
    });
  }
});
