/**
 * Issue 14, break 4: timeouts past 2^31-1 ms, the most one Node timer holds. Before the fix
 * `anti-call-llm --timeout 2147484` (or 1e9) exited 3 after about 150 ms with a
 * TimeoutOverflowWarning, and `start --request-timeout 2592000` (30 days) answered every chat
 * call 504 after 11 ms. Here runtimes and a chat call with such timeouts must still be waiting
 * after `waitMs`, and then finish normally when their answer comes.
 */
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { chatBody, postChat, replyBody } from '../support/agent.js';
import { freePort, rock, spawnRock, type CliPlace } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { exited } from '../support/processes.js';
import { sleep, tempDir } from '../support/project.js';

export interface LongTimeoutsParams {
  /** How long each wait is watched before its answer comes. */
  waitMs: number;
}

/** Timeouts in seconds past 2^31-1 ms, as a runtime might pass them. */
const RUNTIME_TIMEOUTS = ['2147484', '1e9', '31536000'];
/** The service's request timeout: 30 days. */
const REQUEST_TIMEOUT_S = 2_592_000;

/** Runs the scenario; returns its figures (lost = waits that ended before their answer). */
export async function longTimeouts(params: LongTimeoutsParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const dir = tempDir('long-timeouts');
  const place: CliPlace = { cwd: dir.path, dataDir: join(dir.path, 'data') };
  const measured: Record<string, string | number> = {};
  const client = new ModelClient({ logFile: join(place.dataDir, 'LLMService.log') });
  // Each wait counts once, however many of its checks fail.
  const failed = new Set<string>();
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = await rock(place, ['start', '--host', '127.0.0.1', '--port', String(port), '--request-timeout', String(REQUEST_TIMEOUT_S)], 40_000);
    if (!findings.check(start.code === 0, `start --request-timeout ${REQUEST_TIMEOUT_S} exited ${start.code}: ${start.stderr.trim()}`)) throw new Error(start.stderr);

    // Runtimes waiting for request 1 with long timeouts, and the library's wait past 2^32 ms.
    const runtimes = RUNTIME_TIMEOUTS.map((timeout) => ({ timeout, run: spawnRock(place, ['anti-call-llm', '--index', '0', '--timeout', timeout]) }));
    const libraryWait = client.popRequest(1, { timeoutMs: 2 ** 32 }).then(
      (text) => ({ ok: true as const, text, at: performance.now() }),
      (e: Error) => ({ ok: false as const, text: `${(e as { code?: string }).code}: ${e.message}`, at: performance.now() }),
    );
    const waitStarted = performance.now();
    await sleep(params.waitMs);
    for (const { timeout, run } of runtimes) {
      const waiting = run.child.exitCode === null && run.child.signalCode === null;
      if (!findings.check(waiting, `anti-call-llm --timeout ${timeout} ended after less than ${params.waitMs} ms (exit ${run.child.exitCode}): ${run.output().trim().slice(0, 200)}`)) failed.add(timeout);
    }
    const early = await Promise.race([libraryWait, sleep(0).then(() => undefined)]);
    if (!findings.check(early === undefined, `popRequest with a timeout of 2^32 ms ended at once: ${early?.text}`)) failed.add('library');
    measured['runtime waits still waiting after'] = `${((performance.now() - waitStarted) / 1000).toFixed(1)} s (--timeout ${RUNTIME_TIMEOUTS.join(', ')}; popRequest 2^32 ms)`;

    // The agent's call: request 1 reaches every waiting runtime; the call then waits for its answer.
    const call = postChat(url, chatBody('long-wait'), { timeoutMs: params.waitMs + 60_000 });
    for (const { timeout, run } of runtimes) {
      await Promise.race([exited(run.child), sleep(20_000)]);
      if (!failed.has(timeout) && !findings.check(run.child.exitCode === 0 && run.output().includes('long-wait'), `anti-call-llm --timeout ${timeout} ended with ${run.child.exitCode ?? 'no exit'}: ${run.output().trim().slice(0, 200)}`)) failed.add(timeout);
    }
    const library = await Promise.race([libraryWait, sleep(20_000).then(() => undefined)]);
    if (!failed.has('library') && !findings.check(library?.ok === true && library.text.includes('long-wait'), `popRequest with a timeout of 2^32 ms ended with ${library?.text ?? 'nothing in 20 s'}`)) failed.add('library');
    const callStarted = performance.now();
    const result = await Promise.race([call, sleep(params.waitMs).then(() => undefined)]);
    if (!findings.check(result === undefined, `a chat call under --request-timeout ${REQUEST_TIMEOUT_S} ended after less than ${params.waitMs} ms: ${result?.status} ${result?.body.slice(0, 160)}`)) failed.add('call');
    await client.pushResponse(1, replyBody('after-a-long-wait'));
    const answered = await call;
    if (!failed.has('call') && !findings.check(answered.status === 200 && answered.body.includes('after-a-long-wait'), `the long-waiting call ended with ${answered.status} ${answered.body.slice(0, 160)}`)) failed.add('call');
    measured[`chat call under --request-timeout ${REQUEST_TIMEOUT_S}`] = `${answered.status} after ${((performance.now() - callStarted) / 1000).toFixed(1)} s of waiting`;
    for (const { run } of runtimes) run.child.kill('SIGKILL');
    return {
      scenario: 'Timeouts past 2^31 ms',
      load: `${RUNTIME_TIMEOUTS.length} CLI runtimes and one library wait for request 1, then one chat call waiting for its answer`,
      faults: `anti-call-llm --timeout ${RUNTIME_TIMEOUTS.join(' / ')} s; popRequest timeoutMs 2^32; start --request-timeout ${REQUEST_TIMEOUT_S} s (30 days)`,
      inputs: `each wait watched for ${(params.waitMs / 1000).toFixed(1)} s before its answer came`,
      lost: failed.size,
      measured,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    client.close();
    await rock(place, ['stop'], 30_000);
    dir.cleanup();
  }
}
