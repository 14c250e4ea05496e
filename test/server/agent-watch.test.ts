import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { isProcessGone } from '../../src/process/process-state.js';
import { startTestService, type TestService } from '../helpers/service.js';

/**
 * A real zombie: `sleep 0.1` is forked by sh, which then becomes `sleep 30` by exec; sleep
 * never reaps, so the exited child stays a zombie while the parent lives.
 */
async function zombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const [data] = (await once(parent.stdout!, 'data')) as [Buffer];
  const pid = Number(data.toString().trim());
  const deadline = Date.now() + 5000;
  while (!isProcessGone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { pid, parent };
}

async function sessionEnds(svc: TestService, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!svc.lines().some((l) => l.kind === 'session_end')) {
    if (Date.now() - started > timeoutMs) throw new Error(`no SESSION_END within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

const watch = (svc: TestService, body: string): Promise<Response> => fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('server: agent watch', () => {
  let svc: TestService;
  beforeEach(async () => {
    svc = await startTestService({ watchIntervalMs: 100 });
  });
  afterEach(async () => {
    await svc.close();
  });

  it('tells a live process, a dead one and a zombie apart', async () => {
    assert.equal(isProcessGone(process.pid), false);
    assert.equal(isProcessGone(2147483646), true);
    const z = await zombie();
    try {
      assert.equal(isProcessGone(z.pid), true);
      // The case the check exists for: signal 0 still reaches a zombie.
      assert.doesNotThrow(() => process.kill(z.pid, 0));
    } finally {
      z.parent.kill();
    }
  });

  it('answers {"status":"watching","pid":P} and ends the session once the process exits', async () => {
    const agent = spawn('sleep', ['30'], { stdio: 'ignore' });
    const res = await watch(svc, `{"pid":${agent.pid}}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'watching', pid: agent.pid });
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(!svc.lines().some((l) => l.kind === 'session_end'), 'SESSION_END while the agent runs');
    agent.kill();
    await once(agent, 'exit');
    await sessionEnds(svc, 2000);
  });

  it('ends the session when the watched agent is a zombie', async () => {
    const z = await zombie();
    try {
      await watch(svc, `{"pid":${z.pid}}`);
      await sessionEnds(svc, 2000);
    } finally {
      z.parent.kill();
    }
  });

  it('writes exactly one SESSION_END for two watches of a pid that never existed', async () => {
    await watch(svc, '{"pid":2147483646}');
    await watch(svc, '{"pid":2147483645}');
    await sessionEnds(svc, 2000);
    await watch(svc, '{"pid":2147483646}');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(svc.lines().filter((l) => l.kind === 'session_end').length, 1);
  });

  it('checks every interval, not every five seconds (default one second)', async () => {
    const slow = await startTestService();
    try {
      const agent = spawn('sleep', ['30'], { stdio: 'ignore' });
      await watch(slow, `{"pid":${agent.pid}}`);
      agent.kill();
      await once(agent, 'exit');
      assert.ok((await sessionEnds(slow, 2500)) <= 2500);
    } finally {
      await slow.close();
    }
  });

  it('refuses a body without a positive integer pid with 400, writing nothing', async () => {
    for (const body of ['{}', '{"pid":"12"}', '{"pid":1.5}', '{"pid":-3}', '[1]', 'pid=3']) {
      const res = await watch(svc, body);
      assert.equal(res.status, 400, body);
      assert.equal(typeof ((await res.json()) as { error: { message: string } }).error.message, 'string');
    }
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(svc.lines().length, 0);
  });
});
