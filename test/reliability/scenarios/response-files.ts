/**
 * Issue 14, break 6: `anti-call-llm --response-file` on what is not a plain regular file, in a
 * live session (a real service, real agent calls, the CLI as the runtime, each turn through
 * bash as a sandbox runs it). Before the fix `/dev/stdin` was read and then unlinked (as root:
 * the machine's /dev/stdin went), a process substitution `<(…)` appended the reply and then
 * failed on `unlink /dev/fd/63` with exit 1, so every retry failed and the session stalled, and a
 * fifo with no writer blocked past `--timeout`. Now pipes, links and redirected stdin are read
 * and never deleted, only a regular file the CLI read is deleted, what cannot be read is refused
 * within `--timeout` with nothing appended, and every turn advances.
 */
import { lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatBody, postChat, replyBody, type ChatResult } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { run } from '../support/processes.js';
import { ROCK_BIN, sleep } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export interface ResponseFilesParams {
  /** Rounds over every kind of response file. */
  rounds: number;
  /** Size of each response (past 64 KiB a pipe fills and the reader must keep reading). */
  responseBytes: number;
  /**
   * Also pass `/dev/stdin` (a pipe, and a redirected regular file). Off only to run this scenario
   * against code that unlinks it: as root that deletes this machine's /dev/stdin.
   */
  devStdin: boolean;
}

interface Source {
  name: string;
  /** Prepares the turn; returns the bash words after `--response-file` and what must still exist afterwards. */
  prepare(dir: string, response: string): { file: string; keep: string[]; gone: string[]; background?: string };
  /** undefined: the turn must succeed; else the exit status it must end with, having appended nothing. */
  failsWith?: number;
  /** --timeout of the turn, seconds (default 10). */
  timeout?: number;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const SOURCES: Source[] = [
  {
    name: 'regular file',
    prepare: (dir, response) => (writeFileSync(join(dir, 'answer.json'), response), { file: q(join(dir, 'answer.json')), keep: [], gone: [join(dir, 'answer.json')] }),
  },
  {
    name: 'symbolic link to a regular file',
    prepare: (dir, response) => {
      writeFileSync(join(dir, 'target.json'), response);
      symlinkSync(join(dir, 'target.json'), join(dir, 'link.json'));
      return { file: q(join(dir, 'link.json')), keep: [join(dir, 'target.json'), join(dir, 'link.json')], gone: [] };
    },
  },
  {
    name: 'process substitution <(cat …)',
    prepare: (dir, response) => (writeFileSync(join(dir, 'src.json'), response), { file: `<(cat ${q(join(dir, 'src.json'))})`, keep: [join(dir, 'src.json')], gone: [] }),
  },
  {
    name: 'fifo with a writer',
    prepare: (dir, response) => {
      writeFileSync(join(dir, 'src.json'), response);
      return { file: q(join(dir, 'fifo')), keep: [join(dir, 'src.json'), join(dir, 'fifo')], gone: [], background: `mkfifo ${q(join(dir, 'fifo'))}; (sleep 0.2; cat ${q(join(dir, 'src.json'))} > ${q(join(dir, 'fifo'))}) &` };
    },
  },
  {
    name: 'fifo nobody opens (--timeout 1)',
    failsWith: 3,
    timeout: 1,
    prepare: (dir) => ({ file: q(join(dir, 'fifo')), keep: [join(dir, 'fifo')], gone: [], background: `mkfifo ${q(join(dir, 'fifo'))};` }),
  },
  {
    name: 'fifo whose writer closes without a byte',
    failsWith: 2,
    prepare: (dir) => ({ file: q(join(dir, 'fifo')), keep: [join(dir, 'fifo')], gone: [], background: `mkfifo ${q(join(dir, 'fifo'))}; (sleep 0.2; : > ${q(join(dir, 'fifo'))}) &` }),
  },
  {
    name: 'directory',
    failsWith: 2,
    prepare: (dir) => (mkdirSync(join(dir, 'a-dir')), { file: q(join(dir, 'a-dir')), keep: [join(dir, 'a-dir')], gone: [] }),
  },
];

const DEV_STDIN: Source[] = [
  {
    name: '/dev/stdin, a pipe',
    prepare: (dir, response) => (writeFileSync(join(dir, 'src.json'), response), { file: `/dev/stdin`, keep: [join(dir, 'src.json'), '/dev/stdin'], gone: [], background: `cat ${q(join(dir, 'src.json'))} |` }),
  },
  {
    name: '/dev/stdin, redirected from a regular file',
    prepare: (dir, response) => (writeFileSync(join(dir, 'src.json'), response), { file: `/dev/stdin < ${q(join(dir, 'src.json'))}`, keep: [join(dir, 'src.json'), '/dev/stdin'], gone: [] }),
  },
];

const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Runs the scenario; returns its figures (lost = turns whose answer did not reach its call once, or a session that stalled). */
export async function responseFiles(params: ResponseFilesParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('response-files');
  const { service, log } = session;
  const work = join(session.dir.path, 'work');
  const sources = [...SOURCES, ...(params.devStdin ? DEV_STDIN : [])];
  const turnMs: Record<string, number[]> = {};
  let lost = 0;
  let turns = 0;
  const responsesIn = (): number => readFileSync(log, 'latin1').split('\n').filter((line) => line.startsWith('LLM_RESPONSE_START')).length;
  /** Runs one runtime turn through bash, as a sandbox would. */
  const runtimeTurn = (index: number, words: string, background = '', timeout = 10) =>
    run('bash', ['-c', `${background} ${q(process.execPath)} ${q(ROCK_BIN)} model-service anti-call-llm --index ${index} --response-file ${words} --timeout ${timeout}`], {
      cwd: work,
      env: { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: session.dir.path },
      timeoutMs: 30_000,
    });
  try {
    // Turn 0: the first call, read by a runtime without a response.
    let call: Promise<ChatResult> = postChat(service.url, chatBody('call-1'));
    const first = await run(process.execPath, [ROCK_BIN, 'model-service', 'anti-call-llm', '--index', '0', '--timeout', '10'], { env: { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: session.dir.path }, timeoutMs: 20_000 });
    if (!findings.check(first.code === 0 && first.stdout.includes('call-1'), `turn 0 printed ${first.stdout.slice(0, 80)} (${first.code}) ${first.stderr}`)) throw new Error(first.stderr);
    let index = 1;
    for (let round = 0; round < params.rounds; round++) {
      for (const source of sources) {
        rmSync(work, { recursive: true, force: true });
        mkdirSync(work);
        const tag = `reply-${index}-${round}`;
        const body = replyBody(tag);
        const response = body.slice(0, -1) + `,"pad":"${'p'.repeat(Math.max(0, params.responseBytes - body.length - 10))}"}`;
        const { file, keep, gone, background } = source.prepare(work, response);
        const before = responsesIn();
        // The agent sends its next call as soon as this one is answered.
        const next = call.then((answered) => ({ answered, next: postChat(service.url, chatBody(`call-${index + 1}`)) }));
        const turn = await runtimeTurn(index, file, background, source.timeout);
        turns++;
        (turnMs[source.name] ??= []).push(turn.ms);
        for (const path of keep) findings.check(exists(path), `${source.name}: ${path} was deleted`);
        for (const path of gone) findings.check(!exists(path), `${source.name}: ${path} was left behind`);
        if (source.failsWith !== undefined) {
          findings.check(turn.code === source.failsWith && turn.stderr.trim().split('\n').length === 1, `${source.name}: exit ${turn.code} (want ${source.failsWith}): ${turn.stderr.trim().slice(0, 200)}`);
          findings.check(turn.ms < 6000, `${source.name}: the refusal took ${turn.ms.toFixed(0)} ms`);
          findings.check(responsesIn() === before, `${source.name}: a refused turn appended a response`);
          // The runtime tries again with a regular file, and the session goes on.
          writeFileSync(join(work, 'retry.json'), response);
          const retry = await runtimeTurn(index, q(join(work, 'retry.json')));
          turns++;
          findings.check(retry.code === 0, `${source.name}: the retry with a regular file exited ${retry.code}: ${retry.stderr.trim()}`);
        } else {
          if (!findings.check(turn.code === 0 && turn.stderr === '', `${source.name}: exit ${turn.code}: ${turn.stderr.trim().slice(0, 200)}`)) {
            // A runtime retries a failed turn as it was; one that fails again stalls the session.
            const retry = await runtimeTurn(index, file, background, source.timeout);
            turns++;
            if (!findings.check(retry.code === 0, `${source.name}: the retry of the failed turn exited ${retry.code} too: ${retry.stderr.trim().slice(0, 200)}`)) lost++;
          }
          findings.check(turn.stdout.includes(`call-${index + 1}`), `${source.name}: the turn printed ${turn.stdout.slice(0, 80)} instead of request ${index + 1}`);
        }
        const { answered, next: nextCall } = await Promise.race([next, sleep(15_000).then(() => ({ answered: undefined, next: undefined }))]);
        if (!findings.check(answered?.status === 200 && answered.body.includes(`"${tag}"`), `${source.name}: call ${index} got ${answered ? `${answered.status} ${answered.body.slice(0, 80)}` : 'nothing within 15 s'}`)) {
          lost++;
          if (nextCall === undefined) break;
        }
        findings.check(responsesIn() === before + 1, `${source.name}: the log holds ${responsesIn() - before} responses for turn ${index}`);
        call = nextCall!;
        index++;
      }
    }
    findings.check(exists('/dev/stdin'), "this machine's /dev/stdin is gone");
    findings.check(service.child.exitCode === null, `the service exited (${service.child.exitCode})`);
    return {
      scenario: 'Response files that are not regular files',
      load: `${index - 1} answered turns (${turns} runtime runs, retries included) of one live session, responses of ${(params.responseBytes / 1024).toFixed(0)} KiB`,
      faults: sources.map((s) => s.name).join('; '),
      inputs: 'anti-call-llm --response-file, run through bash',
      lost,
      measured: Object.fromEntries(Object.entries(turnMs).map(([name, ms]) => [name, `${Math.max(...ms).toFixed(0)} ms`])),
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await session.close();
  }
}
