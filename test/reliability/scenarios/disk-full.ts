/**
 * The data dir's file system fills up (a small tmpfs): the agent's call and the runtime's
 * answer must fail with a clear error and leave no torn line, /health must keep answering,
 * and everything must work again once space returns. Needs root to mount the tmpfs.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { chatBody, health, postChat, replyBody } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { tempDir } from '../support/project.js';
import { startServiceProcess } from '../support/service-process.js';

export interface DiskFullParams {
  /** Size of the tmpfs. */
  tmpfsBytes: number;
  /** Fill-and-free cycles. */
  cycles: number;
  /** Size of the requests and replies that hit the full disk. */
  bigBytes: number;
}

/** Mounts a tmpfs of `bytes` at `dir`; returns false when this process may not mount. */
export function mountTmpfs(dir: string, bytes: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Fills the file system of `dir` with one file until ENOSPC, then frees `leave` bytes of it; returns its path. */
function fill(dir: string, leave: number): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x66);
  try {
    for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          if (writeSync(fd, chunk, 0, size) < size) break;
        } catch {
          break;
        }
      }
    }
    if (leave > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leave));
  } finally {
    closeSync(fd);
  }
  return path;
}

const endsWithNewline = (path: string): boolean => {
  const bytes = readFileSync(path);
  return bytes.length === 0 || bytes[bytes.length - 1] === 0x0a;
};

/** Runs the scenario; returns its figures, or null when no tmpfs can be mounted here. */
export async function diskFull(params: DiskFullParams): Promise<ScenarioFigures | null> {
  const started = performance.now();
  const dir = tempDir('diskfull');
  const data = join(dir.path, 'data');
  mkdirSync(data);
  if (!mountTmpfs(data, params.tmpfsBytes)) {
    dir.cleanup();
    return null;
  }
  const findings = new Findings();
  const measured: Record<string, string | number> = {};
  const service = await startServiceProcess({ dataDir: data });
  const log = join(data, 'LLMService.log');
  const client = new ModelClient({ logFile: log });
  let lost = 0;
  let index = 1;
  try {
    for (let cycle = 0; cycle < params.cycles; cycle++) {
      // A call is waiting when the disk fills.
      const waiting = postChat(service.url, chatBody(`waiting-${index}`), { timeoutMs: 30_000 });
      const request = await client.popRequest(index, { timeoutMs: 10_000 });
      findings.check(request.includes(`waiting-${index}`), `request ${index} is ${request.slice(0, 60)}`);
      // Odd cycles leave some room: the big writes then fail part-way (a short write), not at once.
      const leave = cycle % 2 === 1 ? params.bigBytes / 4 : 0;
      const filler = fill(data, leave);
      const how = leave > 0 ? 'nearly full disk (short write)' : 'full disk';
      const sizeFull = statSync(log).size;
      // The agent's big call cannot be written.
      const refused = await postChat(service.url, chatBody(`refused-${cycle}`, params.bigBytes), { timeoutMs: 10_000 }).catch((e: Error) => ({ status: -1, body: e.message }));
      const clear = refused.status >= 500 && /"error"/.test(refused.body);
      findings.check(clear, `a call on a ${how} got ${refused.status} ${refused.body.slice(0, 100)}`);
      measured[`agent call on a ${how}`] = `${refused.status} ${(JSON.parse(refused.body) as { error?: { code?: string } }).error?.code ?? refused.body.slice(0, 40)}`;
      findings.check(statSync(log).size === sizeFull && endsWithNewline(log), `the refused call left ${statSync(log).size - sizeFull} bytes (a torn line) in the log`);
      findings.check((await health(service.url)) === 200, '/health stopped answering on a full disk');
      // The runtime's big answer cannot be written either.
      const pushError = await client.pushResponse(index, replyBody('x'.repeat(params.bigBytes))).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      findings.check(pushError?.code === 'RMS_WRITE_FAILED', `the runtime's answer on a ${how} ended with ${pushError ? `${pushError.code}: ${pushError.message}` : 'success'}`);
      measured[`runtime answer on a ${how}`] = pushError ? `${pushError.code}` : 'written';
      findings.check(statSync(log).size === sizeFull && endsWithNewline(log), 'the refused answer left a torn line in the log');
      // Space returns: the same answer goes through, and new calls work.
      rmSync(filler);
      await client.pushResponse(index, replyBody(`reply-${index}`));
      const answered = await waiting;
      if (!findings.check(answered.status === 200 && answered.body.includes(`reply-${index}`), `after space returned the waiting call got ${answered.status} ${answered.body.slice(0, 80)}`)) lost++;
      index++;
      const next = postChat(service.url, chatBody(`after-${index}`), { timeoutMs: 30_000 });
      const nextRequest = await client.popRequest(index, { timeoutMs: 10_000 });
      findings.check(nextRequest.includes(`after-${index}`), `after space returned request ${index} is ${nextRequest.slice(0, 60)} (a refused call must not use up an index)`);
      await client.pushResponse(index, replyBody(`reply-${index}`));
      if (!findings.check((await next).status === 200, 'a call after space returned was not answered')) lost++;
      index++;
    }
    findings.check(service.child.exitCode === null, `the service exited (${service.child.exitCode})`);
    return {
      scenario: 'Disk full',
      load: `${params.cycles} fill-and-free cycles, ${index - 1} calls answered`,
      faults: `tmpfs of ${(params.tmpfsBytes / 2 ** 20).toFixed(0)} MiB filled to ENOSPC under a waiting call (every other cycle ${(params.bigBytes / 4 / 1024).toFixed(0)} KiB left free, so writes fail part-way)`,
      inputs: `${(params.bigBytes / 1024).toFixed(0)} KiB agent calls and runtime answers on the full disk`,
      lost,
      measured,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    client.close();
    await service.stop();
    try {
      execFileSync('umount', [data], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    dir.cleanup();
  }
}
