import assert from 'node:assert/strict';
import { requireBuiltCli, runCli } from '../helpers/cli.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { freePort } from '../helpers/loopback.js';

describe('rock model-service start: the agent API, models and live page flags', () => {
  let cwd: string;
  before(requireBuiltCli);
  beforeEach(() => {
    cwd = makeTempDir('rms-start-options-');
  });
  afterEach(async () => {
    await runCli(['model-service', 'stop'], { cwd, env: { ROCK_MODEL_SERVICE_DATA_DIR: cwd } });
    removeDir(cwd);
  });

  it('starts a service in native mode that lists the --model names and serves the live page', async () => {
    const port = await freePort();
    const env = { ROCK_MODEL_SERVICE_DATA_DIR: cwd };
    const started = await runCli(
      ['model-service', 'start', '--host', '127.0.0.1', '--port', String(port), '--agent-api', 'native', '--model', 'policy-a, policy-b', '--max-tokens-cap', '4096', '--live-page'],
      { cwd, env },
    );
    assert.equal(started.code, 0, started.stderr);
    const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(models.data.map((m) => m.id), ['policy-a', 'policy-b']);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  });

  for (const [flags, message] of [
    [['--agent-api', 'chat'], /--agent-api must be "translated" or "native", got "chat"/],
    [['--model', 'a,,b'], /--model must be comma-separated model names/],
    [['--max-tokens-cap', '0'], /--max-tokens-cap must be a whole number from 1/],
  ] as const) {
    it(`refuses ${flags.join(' ')} with exit 2 and one line`, async () => {
      const result = await runCli(['model-service', 'start', '--port', '0', ...flags], { cwd, env: { ROCK_MODEL_SERVICE_DATA_DIR: cwd } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    });
  }
});
