/**
 * Issue 14, break 10 (and the `--index` echo of degradation 9): indexes a runtime should never
 * send, sent in the middle of a live session. Before the fix `--index 9007199254740991` appended
 * its response and then failed ("got 9007199254740992"), and every later turn failed with "lower
 * than the last response": the log was poisoned. Now each must be refused with exit 2 before a
 * byte is written, in one stderr line with no raw control character, and the session must go on.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ModelClient } from '../../../src/client/model-client.js';
import { chatBody, postChat, replyBody, type ChatResult } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { run } from '../support/processes.js';
import { ROCK_BIN } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export interface IndexLimitParams {
  /** Turns of the session; a hostile index is tried before every one of them. */
  turns: number;
}

/** Indexes no runtime may use: past 2^53, not integers, not numbers, control characters. */
const HOSTILE = [
  '9007199254740991',
  '\u001b[31m1\u001b[0m',
  '9007199254740992',
  '1e16',
  '-1',
  '1.5',
  '18014398509481984',
  '1e308',
  '9'.repeat(400),
  '0x10',
  'NaN',
  'Infinity',
  ' 1',
  '',
  '1\r2',
];

/** The same through the library: numbers that are not an index whose next one is exact. */
const HOSTILE_NUMBERS = [Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 54, 1e16, 1e308, -1, 1.5, NaN, Infinity, -Infinity, 0];

/** Runs the scenario; returns its figures (lost = bytes written by a refused turn, or turns that failed after it). */
export async function indexLimit(params: IndexLimitParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('index-limit');
  const { service, log } = session;
  const client = new ModelClient({ logFile: log });
  const env = { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: session.dir.path };
  const rockTurn = (args: string[]) => run(process.execPath, [ROCK_BIN, 'model-service', 'anti-call-llm', ...args], { env, timeoutMs: 20_000 });
  const digest = (): string => createHash('sha256').update(readFileSync(log)).digest('hex');
  let lost = 0;
  let refused = 0;
  let libraryRefused = 0;
  const refusalMs: number[] = [];
  try {
    const chat = (tag: string): Promise<ChatResult> => postChat(service.url, chatBody(tag), { timeoutMs: 20_000 }).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, at: 0 }));
    let call = chat('call-1');
    const first = await rockTurn(['--index', '0', '--timeout', '10']);
    findings.check(first.code === 0 && first.stdout.includes('call-1'), `turn 0: ${first.code} ${first.stderr}`);
    for (let index = 1; index <= params.turns; index++) {
      const hostile = HOSTILE[(index - 1) % HOSTILE.length]!;
      const before = digest();
      const bad = await rockTurn(['--index', hostile, '--response', replyBody('poison'), '--timeout', '1']);
      refusalMs.push(bad.ms);
      const oneLine = bad.stderr.trim().split('\n').length === 1;
      // eslint-disable-next-line no-control-regex
      const raw = /[\u0000-\u0008\u000b-\u001f\u007f]/.test(bad.stderr);
      if (findings.check(bad.code === 2 && oneLine && !raw, `--index ${JSON.stringify(hostile)} exited ${bad.code}: ${JSON.stringify(bad.stderr.trim().slice(0, 200))}`)) refused++;
      if (!findings.check(digest() === before, `--index ${JSON.stringify(hostile)} wrote to the log`)) lost++;
      const number = HOSTILE_NUMBERS[(index - 1) % HOSTILE_NUMBERS.length]!;
      const error = await client.pushResponse(number, replyBody('poison')).then(() => undefined, (e: Error & { code?: string }) => e.code);
      if (findings.check(error === 'RMS_INVALID_ARGUMENT' || error === 'RMS_USAGE', `pushResponse(${number}) ended with ${error ?? 'success'}`)) libraryRefused++;
      if (!findings.check(digest() === before, `pushResponse(${number}) wrote to the log`)) lost++;
      // The real turn after it.
      const next = call.then(() => chat(`call-${index + 1}`));
      const good = await rockTurn(['--index', String(index), '--response', replyBody(`reply-${index}`), '--timeout', '10']);
      if (!findings.check(good.code === 0 && good.stdout.includes(`call-${index + 1}`), `turn ${index} after --index ${JSON.stringify(hostile)}: exit ${good.code} ${good.stderr.trim().slice(0, 200)}`)) lost++;
      const answered = await call;
      if (!findings.check(answered.status === 200 && answered.body.includes(`reply-${index}`), `call ${index} got ${answered.status} ${answered.body.slice(0, 100)}`)) lost++;
      call = next;
    }
    await client.pushResponse(params.turns + 1, replyBody('last')).catch(() => undefined);
    await call;
    findings.check(!readFileSync(log, 'utf8').includes('poison'), 'a refused response is in the log');
    return {
      scenario: 'Indexes past 2^53 and other hostile indexes',
      load: `a live session of ${params.turns} turns, a hostile turn before each`,
      faults: `--index ${HOSTILE.map((h) => (h.length > 20 ? `${h.slice(0, 6)}…(${h.length} digits)` : JSON.stringify(h))).join(', ')}; pushResponse(${HOSTILE_NUMBERS.join(', ')})`,
      inputs: 'anti-call-llm --index N --response R; ModelClient.pushResponse',
      lost,
      measured: {
        'CLI turns refused with exit 2, one clean line': `${refused} of ${params.turns}`,
        'library calls refused': `${libraryRefused} of ${params.turns}`,
        'refusal p50 / max': `${[...refusalMs].sort((a, b) => a - b)[Math.floor(refusalMs.length / 2)]!.toFixed(0)} / ${Math.max(...refusalMs).toFixed(0)} ms`,
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    client.close();
    await session.close();
  }
}
