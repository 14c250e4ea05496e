/**
 * Issue 14, degradation 3: several runtimes answer the same index at once. Before the fix two
 * runtimes both appended in 6 of 10 trials and both reported success, while the agent got the
 * first. SPEC section 5 now says which answer wins: the first one written. The check and the
 * append are one step under a lock, so exactly one line is written per index, the agent gets
 * that line, and every other runtime is told. The runtimes take turns: CLI runtimes (each
 * told in one stderr line, exit 0 as in the reference, then all of them print the next
 * request); library runtimes in their own processes released in the same millisecond (CLI
 * processes start tens of milliseconds apart, which hides the race); and library clients
 * answering together in one process (an async trainer), whose look and append interleave.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ModelClient } from '../../../src/client/model-client.js';
import { chatBody, postChat, replyBody, type ChatResult } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { run, type Finished } from '../support/processes.js';
import { PROJECT_ROOT, ROCK_BIN, tsxArgs } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export interface RacingAnswersParams {
  trials: number;
  /** Runtimes answering each index at once, each with its own payload. */
  runtimes: number;
}

const responseLines = (log: string, index: number): string[] =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('LLM_RESPONSE_START') && line.endsWith(`"index": ${index}}`));

/** Starts `count` library runtimes, releases them at once, and returns what each said. */
async function lockStepAnswers(log: string, index: number, count: number): Promise<{ written?: boolean; error?: string }[]> {
  const children = Array.from({ length: count }, (_, r) => spawn(process.execPath, tsxArgs('./answer-child.ts', log, String(index), replyBody(`answer-${index}-from-${r}`)), { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'] }));
  const outputs = children.map((child) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
    return { ready: new Promise<void>((resolve) => child.stdout!.on('data', () => text.includes('ready\n') && resolve())), done: new Promise<string>((resolve) => child.on('close', () => resolve(text))) };
  });
  await Promise.all(outputs.map((o) => o.ready));
  const at = Date.now() + 100;
  for (const child of children) child.stdin!.write(`${at}\n`);
  return (await Promise.all(outputs.map((o) => o.done))).map((text) => {
    try {
      return JSON.parse(text.split('\n').filter(Boolean).pop() ?? '') as { written?: boolean; error?: string };
    } catch {
      return { error: text.trim() };
    }
  });
}

/** Answers `index` with `count` clients of this process at once; returns what each said. */
async function inProcessAnswers(log: string, index: number, count: number): Promise<{ written?: boolean; error?: string }[]> {
  const clients = Array.from({ length: count }, () => new ModelClient({ logFile: log }));
  try {
    return await Promise.all(
      clients.map((client, r) =>
        client.pushResponse(index, replyBody(`answer-${index}-from-${r}`)).then(
          (written) => ({ written }),
          (e: Error & { code?: string }) => ({ error: `${e.code}: ${e.message}` }),
        ),
      ),
    );
  } finally {
    for (const client of clients) client.close();
  }
}

/** Runs the scenario; returns its figures (lost = indexes with other than one line, or an agent given another answer than the written one). */
export async function racingAnswers(params: RacingAnswersParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('racing-answers');
  const { service, log } = session;
  const env = { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: session.dir.path };
  const turn = (args: string[]): Promise<Finished> => run(process.execPath, [ROCK_BIN, 'model-service', 'anti-call-llm', ...args], { env, timeoutMs: 30_000 });
  const chat = (tag: string): Promise<ChatResult> => postChat(service.url, chatBody(tag), { timeoutMs: 30_000 }).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, at: 0 }));
  const wonBy = new Array<number>(params.runtimes).fill(0);
  let lost = 0;
  let told = 0;
  let doubleWrites = 0;
  try {
    let call = chat('call-1');
    const first = await turn(['--index', '0', '--timeout', '10']);
    findings.check(first.code === 0, `turn 0: ${first.code} ${first.stderr}`);
    for (let index = 1; index <= params.trials; index++) {
      const next = call.then((answered) => ({ answered, next: chat(`call-${index + 1}`) }));
      const how = index % 3;
      const results = how === 1 ? await Promise.all(Array.from({ length: params.runtimes }, (_, r) => turn(['--index', String(index), '--response', replyBody(`answer-${index}-from-${r}`), '--timeout', '20']))) : [];
      const said = how === 2 ? await lockStepAnswers(log, index, params.runtimes) : how === 0 ? await inProcessAnswers(log, index, params.runtimes) : [];
      const { answered, next: nextCall } = await next;
      const lines = responseLines(log, index);
      if (lines.length > 1) doubleWrites++;
      const writer = /answer-\d+-from-(\d+)/.exec(lines[0] ?? '')?.[1];
      if (writer !== undefined) wonBy[Number(writer)]!++;
      if (!findings.check(lines.length === 1, `index ${index}: ${lines.length} response lines written by ${params.runtimes} runtimes`)) lost++;
      if (!findings.check(answered.status === 200 && answered.body.includes(`"answer-${index}-from-${writer}"`), `index ${index}: the agent got ${answered.status} ${answered.body.slice(0, 100)}, the log holds the answer of runtime ${writer}`)) lost++;
      for (const [r, answer] of said.entries()) {
        const who = how === 2 ? 'library runtime' : 'client in one process';
        if (String(r) === writer) findings.check(answer.written === true, `index ${index}: the ${who} whose answer stands said ${JSON.stringify(answer)}`);
        else if (findings.check(answer.written === false, `index ${index}: ${who} ${r}, whose answer was not written, said ${JSON.stringify(answer)}`)) told++;
      }
      for (const [r, result] of results.entries()) {
        findings.check(result.code === 0 && result.stdout.includes(`call-${index + 1}`), `index ${index}, runtime ${r}: exit ${result.code}, printed ${result.stdout.slice(0, 60)} ${result.stderr.trim().slice(0, 160)}`);
        if (String(r) === writer) findings.check(result.stderr === '', `index ${index}: the runtime whose answer stands said ${result.stderr.trim()}`);
        else if (findings.check(result.stderr.trim().split('\n').length === 1 && result.stderr.length > 0, `index ${index}: runtime ${r}, whose answer was not written, said ${JSON.stringify(result.stderr.trim())}`)) told++;
      }
      call = nextCall;
    }
    return {
      scenario: 'Runtimes racing to answer one index',
      load: `${params.trials} indexes of a live session, each answered by ${params.runtimes} runtimes at once with different payloads`,
      faults: `in turn: ${params.runtimes} concurrent anti-call-llm --index N --response R; ${params.runtimes} library runtimes in their own processes released in the same millisecond; ${params.runtimes} clients of one process`,
      inputs: 'different answers to the same index',
      lost,
      measured: {
        'indexes with more than one line': doubleWrites,
        'runtimes told their answer was not written': `${told} of ${params.trials * (params.runtimes - 1)}`,
        'answers written, by runtime': wonBy.join(' / '),
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await session.close();
  }
}
