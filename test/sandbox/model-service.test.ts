import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, SandboxCommandError, SandboxStateError, StartFailedError } from '../../src/errors.js';
import { LocalSandbox } from '../../src/sandbox/local-sandbox.js';
import { ModelService, RESPONSE_FILE_THRESHOLD_BYTES } from '../../src/sandbox/model-service.js';
import type { ModelServiceConfigInput } from '../../src/sandbox/model-service-config.js';
import type { Sandbox, SandboxRunOptions, SandboxRunResult, UploadSource } from '../../src/sandbox/sandbox.js';

/** Templates that record what they were given instead of running the real CLI: the lifecycle logic alone. */
const RECORDING: ModelServiceConfigInput = {
  installCmd: 'echo install >> calls.txt',
  stopCmd: 'echo stop >> calls.txt',
  startCmd: 'echo "start ${type} $ROCK_LOGGING_PATH $ROCK_LOGGING_FILE_NAME" >> calls.txt',
  healthCheckCmd: 'echo health >> calls.txt',
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
  /** The recording templates, with the service's log dir inside the sandbox. */
  const recording = (): ModelServiceConfigInput => ({ ...RECORDING, loggingPath: join(local.workDir, 'service-logs') });

  beforeEach(() => {
    local = new LocalSandbox();
    sandbox = new CountingSandbox(local);
    warnings = [];
    service = new ModelService(
      sandbox,
      { ...recording(), responseFileDir: join(local.workDir, 'responses') },
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
    const halfStarted = new ModelService(sandbox, { ...recording(), startCmd: 'echo "start ${type}" >> calls.txt; exit 1' });
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
    assert.deepEqual(calls(), ['install', 'stop', `start local ${join(local.workDir, 'service-logs')} model_service.log`, 'health']);
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

  it('uploads a payload over 100 KB to a file in a private directory and passes --response-file instead', async () => {
    await service.install();
    await service.start();
    const payload = JSON.stringify({ content: 'x'.repeat(RESPONSE_FILE_THRESHOLD_BYTES + 10), quote: "it's" });
    const output = await service.antiCallLlm(3, payload);
    const match = new RegExp(`^file 3 (${join(local.workDir, 'responses')}/rock-model-service\\.[A-Za-z0-9]{10})/response-3-[0-9a-f-]+\\.json$`).exec(output);
    assert.ok(match, output);
    assert.equal(statSync(match[1]!).mode & 0o777, 0o700);
    assert.equal(readFileSync(join(local.workDir, 'response-3.txt'), 'utf8'), payload);
    await service.stop();
    assert.deepEqual(readdirSync(join(local.workDir, 'responses')), [], 'stop() left the private directory');
  });

  it("by default makes the private directory in the sandbox's TMPDIR, one per ModelService, never a shared fixed path", async () => {
    const services = [0, 1].map(() => new ModelService(sandbox, { ...recording() }, { logger: { warn: () => {} } }));
    const dirs: string[] = [];
    for (const [i, each] of services.entries()) {
      await each.install();
      await each.start();
      const output = await each.antiCallLlm(i + 1, JSON.stringify({ content: 'y'.repeat(RESPONSE_FILE_THRESHOLD_BYTES) }));
      dirs.push(output.split(' ')[2]!.replace(/\/[^/]+$/, ''));
    }
    assert.notEqual(dirs[0], dirs[1]);
    for (const dir of dirs) assert.ok(dir.startsWith(`${local.env.TMPDIR}/rock-model-service.`), dir);
  });

  it('removes the uploaded response file when the turn fails', async () => {
    const failing = new ModelService(sandbox, { ...recording(), responseFileDir: join(local.workDir, 'responses'), antiCallLlmCmdFile: 'echo ${index} ${response_file} > seen.txt; exit 4' });
    await failing.install();
    await failing.start();
    await assert.rejects(failing.antiCallLlm(2, JSON.stringify({ content: 'z'.repeat(RESPONSE_FILE_THRESHOLD_BYTES) })), SandboxCommandError);
    const file = readFileSync(join(local.workDir, 'seen.txt'), 'utf8').trim().split(' ')[1]!;
    assert.ok(file.startsWith(join(local.workDir, 'responses')), file);
    assert.equal(existsSync(file), false, 'the response file stayed after a failed turn');
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
    const slow = new ModelService(sandbox, { ...recording(), antiCallLlmCmdNoResponse: 'echo waiting; sleep 20 # ${index}' });
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

  it('starts the service even when stopCmd ends in a # comment', async () => {
    const commented = new ModelService(sandbox, { ...recording(), stopCmd: 'echo stop >> calls.txt # then start' });
    await commented.install();
    await commented.start();
    assert.deepEqual(calls().slice(1, 3), ['stop', `start local ${join(local.workDir, 'service-logs')} model_service.log`]);
  });

  it('fails start() when the service does not answer the health check, and still stops it after', async () => {
    const exiting = new ModelService(sandbox, { ...recording(), stopCmd: 'echo stop >> calls.txt; exit 0', startCmd: 'touch started', healthCheckCmd: 'test -f started' });
    await exiting.install();
    await assert.rejects(exiting.start(), (e: unknown) => {
      assert.ok(e instanceof StartFailedError);
      assert.equal(e.code, 'RMS_START_FAILED');
      assert.match(e.message, /the start command succeeded but the model service does not answer: the health check exited with code 1/);
      assert.match(e.message, /health check: test -f started/);
      return true;
    });
    assert.equal(exiting.isStarted, false);
    await exiting.stop();
    assert.deepEqual(calls(), ['install', 'stop', 'stop']);
  });

  it('waits out call, command and install timeouts past 2^31 ms instead of killing at once', async () => {
    const patient = new ModelService(sandbox, {
      ...recording(),
      installCmd: 'sleep 0.2; echo install >> calls.txt',
      installTimeout: 2_147_484,
      commandTimeout: 1e7,
      antiCallLlmCmdNoResponse: 'sleep 0.2; echo none ${index}',
    });
    await patient.install();
    await patient.start();
    assert.equal(await patient.antiCallLlm(0, undefined, { callTimeout: 2_147_484 }), 'none 0');
    assert.equal(await patient.antiCallLlm(0, undefined, { callTimeout: 1e9 }), 'none 0');
  });

  it("runs ROCK's customInstallCmd and configIniCmd before installCmd, and gives every command runtimeEnvConfig.env and sessionEnvs", async () => {
    const warned: string[] = [];
    const rockish = new ModelService(
      sandbox,
      {
        ...recording(),
        runtime_env_config: { custom_install_cmd: 'echo "custom $FROM_RUNTIME" >> calls.txt', env: { FROM_RUNTIME: 'r' }, pip: ['langchain'] },
        session_envs: { FROM_SESSION: 's' },
        config_ini_cmd: 'echo ini >> calls.txt',
        startCmd: 'echo "start ${type} $FROM_RUNTIME $FROM_SESSION" >> calls.txt',
        workdir: '/tmp_model_service',
      },
      { logger: { warn: (m) => warned.push(m) } },
    );
    assert.equal(warned.length, 1);
    assert.match(warned[0]!, /no effect here .*: workdir, runtimeEnvConfig\.pip$/);
    await rockish.install();
    await rockish.start();
    assert.deepEqual(calls(), ['custom r', 'ini', 'install', 'stop', 'start local r s', 'health']);
  });
});

