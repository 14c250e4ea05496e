import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, SandboxCommandError, SandboxStateError } from '../../src/errors.js';
import { LocalSandbox } from '../../src/sandbox/local-sandbox.js';
import { ModelService, RESPONSE_FILE_THRESHOLD_BYTES } from '../../src/sandbox/model-service.js';
import type { ModelServiceConfig } from '../../src/sandbox/model-service-config.js';
import type { Sandbox, SandboxRunOptions, SandboxRunResult, UploadSource } from '../../src/sandbox/sandbox.js';

/** Templates that record what they were given instead of running the real CLI: the lifecycle logic alone. */
const RECORDING: Partial<ModelServiceConfig> = {
  installCmd: 'echo install >> calls.txt',
  stopCmd: 'echo stop >> calls.txt',
  startCmd: 'echo "start ${type} $ROCK_LOGGING_PATH $ROCK_LOGGING_FILE_NAME" >> calls.txt',
  watchAgentCmd: 'echo watch ${pid} >> calls.txt',
  antiCallLlmCmd: 'printf %s ${response_payload} > response-${index}.txt && echo inline ${index}',
  antiCallLlmCmdFile: 'cp ${response_file} response-${index}.txt && echo file ${index} ${response_file}',
  antiCallLlmCmdNoResponse: 'echo none ${index}',
};

/** Counts the commands a ModelService runs, to show that refused calls run nothing. */
class CountingSandbox implements Sandbox {
  commands: string[] = [];
  constructor(private readonly inner: LocalSandbox) {}
  run(command: string, options: SandboxRunOptions): Promise<SandboxRunResult> {
    this.commands.push(command);
    return this.inner.run(command, options);
  }
  upload(source: UploadSource, remotePath: string): Promise<void> {
    return this.inner.upload(source, remotePath);
  }
}

const stateError = (e: unknown) => e instanceof SandboxStateError && e.code === 'RMS_SANDBOX_STATE' && /call (install|start)\(\)/.test(e.message);

describe('ModelService (lifecycle logic, recording templates)', () => {
  let local: LocalSandbox;
  let sandbox: CountingSandbox;
  let warnings: string[];
  let service: ModelService;
  const calls = () => readFileSync(join(local.workDir, 'calls.txt'), 'utf8').trim().split('\n');

  beforeEach(() => {
    local = new LocalSandbox();
    sandbox = new CountingSandbox(local);
    warnings = [];
    service = new ModelService(
      sandbox,
      { ...RECORDING, loggingPath: join(local.workDir, 'service-logs'), responseFileDir: join(local.workDir, 'responses') },
      { logger: { warn: (m) => warnings.push(m) } },
    );
  });
  afterEach(async () => {
    await local.close();
  });

  it('refuses start before install, and watchAgent or antiCallLlm before start, running nothing', async () => {
    await assert.rejects(service.start(), stateError);
    await assert.rejects(service.watchAgent(123), stateError);
    await assert.rejects(service.antiCallLlm(0), stateError);
    await service.install();
    await assert.rejects(service.watchAgent(123), stateError);
    await assert.rejects(service.antiCallLlm(0), stateError);
    assert.equal(sandbox.commands.length, 1);
  });

  it('refuses anti-calls again once stopped', async () => {
    await service.install();
    await service.start();
    await service.stop();
    assert.equal(service.isStarted, false);
    await assert.rejects(service.antiCallLlm(1, '{}'), stateError);
  });

  it('only warns when stop() is called on a service it did not start', async () => {
    await service.stop();
    assert.equal(sandbox.commands.length, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /start\(\) was never called/);
  });

  it('still stops after a start that failed half-way, which can leave a service behind', async () => {
    const halfStarted = new ModelService(sandbox, { ...RECORDING, startCmd: 'echo "start ${type}" >> calls.txt; exit 1' });
    await halfStarted.install();
    await assert.rejects(halfStarted.start(), SandboxCommandError);
    assert.equal(halfStarted.isStarted, false);
    await assert.rejects(halfStarted.antiCallLlm(0), stateError);
    await halfStarted.stop();
    assert.deepEqual(calls(), ['install', 'stop', 'start local', 'stop']);
    await halfStarted.stop();
    assert.equal(calls().length, 4, 'a second stop ran the command again');
  });

  it('exports the logging variables and runs stop before start', async () => {
    await service.install();
    await service.start();
    assert.deepEqual(calls(), ['install', 'stop', `start local ${join(local.workDir, 'service-logs')} model_service.log`]);
    assert.ok(existsSync(join(local.workDir, 'service-logs')), 'the logging directory was not created');
    assert.equal(service.isStarted, true);
  });

  it('passes the pid to the watch command and refuses one that is not a positive integer', async () => {
    await service.install();
    await service.start();
    await service.watchAgent('4242');
    assert.equal(calls().at(-1), 'watch 4242');
    await assert.rejects(service.watchAgent('1; rm -rf ~'), InvalidArgumentError);
    await assert.rejects(service.watchAgent(0), InvalidArgumentError);
  });

  it('uses the no-response command for index 0 and returns the output without its final newline', async () => {
    await service.install();
    await service.start();
    assert.equal(await service.antiCallLlm(0), 'none 0');
    assert.equal(await service.antiCallLlm(2, ''), 'none 2');
    await assert.rejects(service.antiCallLlm(-1), InvalidArgumentError);
    await assert.rejects(service.antiCallLlm(1.5, '{}'), InvalidArgumentError);
    await assert.rejects(service.antiCallLlm(1, '{}', { callTimeout: 0 }), InvalidArgumentError);
    await assert.rejects(service.antiCallLlm(1, '{}', { checkInterval: Number.NaN }), InvalidArgumentError);
  });

  it('hands a hostile payload to the command byte for byte', async () => {
    await service.install();
    await service.start();
    const payload = JSON.stringify({
      choices: [{ message: { role: 'assistant', content: `it's "$(id)" \`id\` \\n back\\slash\nnew line 你好 🎉 $HOME '' SESSION_END` } }],
    });
    assert.equal(await service.antiCallLlm(1, payload), 'inline 1');
    assert.equal(readFileSync(join(local.workDir, 'response-1.txt'), 'utf8'), payload);
  });

  it('uploads a payload over 100 KB to a file and passes --response-file instead', async () => {
    await service.install();
    await service.start();
    const payload = JSON.stringify({ content: 'x'.repeat(RESPONSE_FILE_THRESHOLD_BYTES + 10), quote: "it's" });
    const output = await service.antiCallLlm(3, payload);
    assert.match(output, new RegExp(`^file 3 ${join(local.workDir, 'responses')}/response-3-[0-9a-f-]+\\.json$`));
    assert.equal(readFileSync(join(local.workDir, 'response-3.txt'), 'utf8'), payload);
    assert.equal(readdirSync(join(local.workDir, 'responses')).length, 1);
  });

  it('uses a file too when quoting would push a smaller payload over the limit', async () => {
    await service.install();
    await service.start();
    const payload = JSON.stringify({ content: "'".repeat(40 * 1024) });
    assert.ok(Buffer.byteLength(payload) < RESPONSE_FILE_THRESHOLD_BYTES);
    assert.match(await service.antiCallLlm(4, payload), /^file 4 /);
    assert.equal(readFileSync(join(local.workDir, 'response-4.txt'), 'utf8'), payload);
  });

  it('surfaces a failing command with its exit code and output', async () => {
    const failing = new ModelService(sandbox, { installCmd: 'echo "npm ERR! 404 Not Found: rock-model-service" >&2; exit 3' });
    const error: unknown = await failing.install().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof SandboxCommandError, String(error));
    assert.equal(error.code, 'RMS_SANDBOX_COMMAND');
    assert.equal(error.exitCode, 3);
    assert.equal(error.timedOut, false);
    assert.match(error.stderr, /npm ERR! 404/);
    assert.match(error.message, /installing the model service failed: the command exited with code 3/);
    assert.match(error.message, /npm ERR! 404 Not Found/);
    assert.equal(failing.isInstalled, false);
  });

  it('kills an anti-call that passes its callTimeout and says so', async () => {
    const slow = new ModelService(sandbox, { ...RECORDING, antiCallLlmCmdNoResponse: 'echo waiting; sleep 20 # ${index}' });
    await slow.install();
    await slow.start();
    const started = Date.now();
    await assert.rejects(slow.antiCallLlm(0, undefined, { callTimeout: 0.3, checkInterval: 0.1 }), (e: unknown) => {
      assert.ok(e instanceof SandboxCommandError);
      assert.equal(e.timedOut, true);
      assert.equal(e.exitCode, null);
      assert.equal(e.stdout, 'waiting\n');
      assert.match(e.message, /timed out after 0.3 s/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });
});
