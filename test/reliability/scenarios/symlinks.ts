/**
 * Issue 14, breaks 5 and 7: symbolic links where the service and the CLI write. The service
 * often runs as root; before the fixes a link at LLMService.log (even dangling) or at the pid
 * file, service.json or service.log made `start`, the service or the runtime write into the
 * link's target (a copy of /etc/passwd here). Now each is refused, the target is left byte for
 * byte as it was and nothing is created through a dangling link; a link swapped in for the log
 * of a running service is refused while agents keep calling, and the service goes on once a
 * regular file is back.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatBody, postChat, replyBody } from '../support/agent.js';
import { freePort, rock, type CliPlace } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { sleep, tempDir } from '../support/project.js';
import { startPollingRuntime } from '../support/polling-runtime.js';

export interface SymlinksParams {
  /** Times a link is swapped in for the log of the running service, under load. */
  swaps: number;
  /** Agents calling in a loop during the swaps. */
  agents: number;
  /** How long each link stays in place. */
  swapMs: number;
}

const isLink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';

/** Runs the scenario; returns its figures (lost = bytes written through a link, files created through one, or calls that hung). */
export async function symlinks(params: SymlinksParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const dir = tempDir('symlinks');
  const place: CliPlace = { cwd: dir.path, dataDir: join(dir.path, 'data') };
  const cliDir = join(dir.path, 'data', 'cli', 'model');
  const log = join(place.dataDir, 'LLMService.log');
  const target = join(dir.path, 'etc-passwd');
  const dangling = join(dir.path, 'elsewhere', 'created-through-a-link');
  const measured: Record<string, string | number> = {};
  let lost = 0;
  const targetIntact = (what: string): void => {
    if (!findings.check(readFileSync(target, 'utf8') === PASSWD, `${what}: the link's target was written`)) {
      lost++;
      // Put it back, so that each case is judged on its own.
      writeFileSync(target, PASSWD);
    }
    if (!findings.check(!existsSync(dangling), `${what}: a file was created through a dangling link`)) lost++;
    rmSync(dangling, { force: true });
  };
  const startArgs = async (): Promise<string[]> => ['start', '--host', '127.0.0.1', '--port', String(await freePort())];
  try {
    writeFileSync(target, PASSWD);
    mkdirSync(join(dir.path, 'elsewhere'));
    mkdirSync(cliDir, { recursive: true });

    // At start: a link (to the copy of /etc/passwd, or dangling) at each file start writes.
    const refusals: string[] = [];
    for (const [what, path] of [
      ['LLMService.log', log],
      ['pid.txt', join(cliDir, 'pid.txt')],
      ['service.json', join(cliDir, 'service.json')],
      ['service.log', join(cliDir, 'service.log')],
    ] as const) {
      for (const [kind, to] of [
        ['link to /etc/passwd', target],
        ['dangling link', dangling],
      ] as const) {
        rmSync(path, { force: true });
        symlinkSync(to, path);
        const result = await rock(place, await startArgs(), 40_000);
        const refused = result.code === 1 && /RMS_UNSAFE_PATH|symbolic link/.test(result.stderr);
        findings.check(refused, `start with ${what} a ${kind} exited ${result.code}: ${result.stderr.trim().slice(0, 200)}`);
        if (result.code === 0) await rock(place, ['stop'], 30_000);
        targetIntact(`start with ${what} a ${kind}`);
        findings.check(isLink(path), `start with ${what} a ${kind} replaced or removed the link`);
        rmSync(path, { force: true });
        refusals.push(refused ? `${result.ms.toFixed(0)} ms` : `exit ${result.code}`);
      }
    }
    measured['start refused (8 links)'] = refusals.join(', ');

    // The runtime: anti-call-llm appending through a link at the log.
    rmSync(log, { force: true });
    symlinkSync(target, log);
    const runtime = await rock(place, ['anti-call-llm', '--index', '1', '--response', '{"x":1}', '--timeout', '2'], 20_000);
    findings.check(runtime.code !== 0 && /symbolic link/.test(runtime.stderr), `anti-call-llm on a linked log exited ${runtime.code}: ${runtime.stderr.trim().slice(0, 200)}`);
    measured['anti-call-llm on a linked log'] = `exit ${runtime.code} in ${runtime.ms.toFixed(0)} ms`;
    targetIntact('anti-call-llm on a linked log');
    rmSync(log);

    // A running service under load: a link swapped in for its log, then a regular file again.
    const start = await rock(place, await startArgs(), 40_000);
    if (!findings.check(start.code === 0, `start exited ${start.code}: ${start.stderr.trim()}`)) throw new Error(start.stderr);
    const url = `http://${/"address":\s*"http:\/\/([^"]+)"/.exec((await rock(place, ['status', '--json'])).stdout)?.[1] ?? ''}`;
    const answerer = startPollingRuntime(log, (payload) => replyBody(`reply-${/"content":"(tag-[\d-]+)"/.exec(payload)?.[1] ?? '?'}`));
    let running = true;
    const outcomes: Record<string, number> = {};
    const agents = Array.from({ length: params.agents }, async (_, id) => {
      for (let n = 0; running; n++) {
        const tag = `tag-${id}-${n}`;
        const r = await postChat(url, chatBody(tag), { timeoutMs: 15_000 }).catch((e: Error) => ({ status: -1, body: e.message }));
        const key = r.status === 200 ? (r.body.includes(`"reply-${tag}"`) ? '200' : '200 with another reply') : `${r.status} ${/"code":"(\w+)"/.exec(r.body)?.[1] ?? r.body.slice(0, 40)}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        if (key !== '200' && !key.startsWith('503 RMS_LOG_UNAVAILABLE')) {
          lost++;
          findings.check(false, `call ${tag} ended with ${r.status} ${r.body.slice(0, 160)}`);
        }
        if (r.status !== 200) await sleep(20);
      }
    });
    await sleep(300);
    for (let swap = 0; swap < params.swaps; swap++) {
      // rename(2) puts the link in place at once, as an attacker would.
      symlinkSync(swap % 2 === 0 ? target : dangling, `${log}.link`);
      renameSync(`${log}.link`, log);
      await sleep(params.swapMs);
      targetIntact(`a link swapped in for the running service's log (${swap + 1})`);
      writeFileSync(`${log}.new`, '');
      renameSync(`${log}.new`, log);
      await sleep(params.swapMs);
    }
    running = false;
    await Promise.all(agents);
    await answerer.stop();
    findings.check((outcomes['200'] ?? 0) > 0, 'no call was answered');
    measured['calls while links came and went'] = Object.entries(outcomes).map(([k, v]) => `${k}: ${v}`).join(', ');
    const stop = await rock(place, ['stop'], 30_000);
    findings.check(stop.code === 0, `stop exited ${stop.code}: ${stop.stderr}`);
    targetIntact('the end');
    return {
      scenario: 'Symbolic links where we write',
      load: `${Object.values(outcomes).reduce((a, b) => a + b, 0)} chat calls by ${params.agents} agents during the swaps; 8 starts and a runtime turn on links`,
      faults: `a link to a copy of /etc/passwd and a dangling link at LLMService.log, pid.txt, service.json and service.log at start; ${params.swaps} links swapped in (rename) for the running service's log, ${params.swapMs} ms each`,
      inputs: 'rock model-service start, anti-call-llm, chat calls',
      lost,
      measured,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rock(place, ['stop'], 30_000);
    dir.cleanup();
  }
}
