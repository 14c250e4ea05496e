import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SandboxCommandError, StartFailedError } from '../../src/errors.js';
import { LocalSandbox } from '../../src/sandbox/local-sandbox.js';
import { ModelService, RESPONSE_FILE_THRESHOLD_BYTES } from '../../src/sandbox/model-service.js';
import { shellQuote } from '../../src/sandbox/shell-quote.js';
import { freePort } from '../helpers/loopback.js';
import { completionText } from '../helpers/chat-completion.js';

const HOSTILE_TEXT = `it's "quoted" $(touch pwned) \`touch pwned\` back\\slash \\n\nnew line\r\n你好 🎉 $HOME '' SESSION_END LLM_RESPONSE_END{"index": 9}`;

/** The agent: posts TURNS chat calls, each carrying the replies so far, and keeps every body it receives. */
const AGENT = `
import { writeFileSync } from 'node:fs';
const messages = [{ role: 'user', content: ${JSON.stringify(HOSTILE_TEXT)} }];
for (let turn = 1; turn <= 3; turn++) {
  const res = await fetch(process.env.OPENAI_BASE_URL + '/chat/completions', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'policy', messages }),
  });
  const text = await res.text();
  writeFileSync('received-' + turn + '.json', text);
  if (res.status !== 200) process.exit(1);
  messages.push(JSON.parse(text).choices[0].message, { role: 'user', content: 'next ' + turn });
}
`;

const reply = (content: string): string => completionText({ content });

describe('ModelService through LocalSandbox and the rock CLI', function () {
  this.timeout(60_000);
  let sandbox: LocalSandbox;
  let service: ModelService;
  let port: number;

  beforeEach(async () => {
    sandbox = new LocalSandbox();
    port = await freePort();
    service = new ModelService(
      sandbox,
      {
        installCmd: 'command -v rock',
        startCmd: `rock model-service start --type \${type} --host 127.0.0.1 --port ${port}`,
        loggingPath: join(sandbox.workDir, 'logs'),
        responseFileDir: join(sandbox.workDir, 'responses'),
      },
      { logger: { warn: () => {} } },
    );
  });
  afterEach(async () => {
    // A test that closed the sandbox already stopped everything in it.
    if (service.isStarted && existsSync(sandbox.workDir)) await service.stop();
    await sandbox.close();
  });

  it('runs install, start, watchAgent, anti-calls with small, hostile and over-100 KB payloads, SESSION_END and stop', async () => {
    await service.install();
    await service.start();
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.ok(existsSync(join(sandbox.workDir, 'logs', 'model_service.log')), 'the service did not log to loggingPath/loggingFileName');
    assert.ok(existsSync(join(sandbox.workDir, 'data', 'logs', 'LLMService.log')), "the service did not use the sandbox's data dir");

    await sandbox.upload({ content: AGENT }, 'agent.mjs');
    const launch = await sandbox.run(`nohup ${shellQuote(process.execPath)} agent.mjs > agent.log 2>&1 & echo $!`, {
      timeoutMs: 5000,
      env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
    });
    await service.watchAgent(Number(launch.stdout.trim()));

    const sent = [reply(HOSTILE_TEXT), reply(`${HOSTILE_TEXT} ${'x'.repeat(RESPONSE_FILE_THRESHOLD_BYTES)}`), reply('done')];
    const first = JSON.parse(await service.antiCallLlm(0));
    assert.equal(first.messages[0].content, HOSTILE_TEXT);

    const second = JSON.parse(await service.antiCallLlm(1, sent[0], { callTimeout: 20 }));
    assert.deepEqual(second.messages[1], JSON.parse(sent[0]!).choices[0].message);

    const third = JSON.parse(await service.antiCallLlm(2, sent[1], { callTimeout: 20 }));
    assert.deepEqual(third.messages[3], JSON.parse(sent[1]!).choices[0].message);
    const [privateDir, ...more] = readdirSync(join(sandbox.workDir, 'responses'));
    assert.deepEqual(more, []);
    assert.deepEqual(readdirSync(join(sandbox.workDir, 'responses', privateDir!)), [], 'the CLI did not delete the uploaded response file');

    assert.equal(await service.antiCallLlm(3, sent[2], { callTimeout: 20 }), 'SESSION_END');
    for (const [i, body] of sent.entries()) {
      assert.deepEqual(JSON.parse(readFileSync(join(sandbox.workDir, `received-${i + 1}.json`), 'utf8')), JSON.parse(body));
    }
    assert.equal(existsSync(join(sandbox.workDir, 'pwned')), false, 'a payload was run as shell code');

    await service.stop();
    const status = await sandbox.run('rock model-service status', { timeoutMs: 10_000 });
    assert.match(status.stdout, /not running/);
    assert.deepEqual(readdirSync(join(sandbox.workDir, 'responses')), [], 'stop() left the private upload directory');
  });

  it('surfaces the CLI error of an anti-call with a bad payload, and nothing is written', async () => {
    await service.install();
    await service.start();
    await assert.rejects(service.antiCallLlm(1, '{"not json"', { callTimeout: 10 }), (e: unknown) => {
      assert.ok(e instanceof SandboxCommandError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /the anti-call for index 1 failed: the command exited with code 2/);
      assert.ok(e.stderr.trim().length > 0);
      assert.ok(e.message.includes(e.stderr.trim()), 'the message does not carry the CLI output');
      return true;
    });
    const log = readFileSync(join(sandbox.workDir, 'data', 'logs', 'LLMService.log'), 'utf8');
    assert.equal(log.includes('LLM_RESPONSE_START'), false);
  });

  it('starts again after a start: the stop before start replaces the running service', async () => {
    await service.install();
    await service.start();
    await service.start();
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  });

  it('starts the service when stopCmd ends in a # comment', async () => {
    const commented = new ModelService(sandbox, { ...service.config, stopCmd: 'rock model-service stop # stop any old one first' }, { logger: { warn: () => {} } });
    await commented.install();
    await commented.start();
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    await commented.stop();
  });

  it('fails start() with the health check\'s answer when the start command starts nothing', async () => {
    const idle = new ModelService(sandbox, { ...service.config, stopCmd: 'rock model-service stop; exit 0' }, { logger: { warn: () => {} } });
    await idle.install();
    await assert.rejects(idle.start(), (e: unknown) => e instanceof StartFailedError && /does not answer/.test(e.message));
    assert.equal(idle.isStarted, false);
  });

  it('close() of the sandbox stops a service nobody stopped', async () => {
    await service.install();
    await service.start();
    const pid = Number(readFileSync(join(sandbox.workDir, 'data', 'cli', 'model', 'pid.txt'), 'utf8'));
    await sandbox.close();
    for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(running(pid), false, 'the service outlived its sandbox');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/health`));
  });
});

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

