/**
 * The log is truncated to zero, replaced by a new file (new inode), and deleted and
 * re-created, each while an agent call and a runtime wait are pending. Nobody may crash;
 * every pending call must end with its reply or a clear error; the follower must carry on
 * with the new file.
 */
import { renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { chatBody, health, postChat, replyBody, type ChatResult } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { sleep } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export type LogFault = 'truncate' | 'replace' | 'delete-recreate';

export interface TruncationParams {
  /** How many times each fault is injected (each round is two agent calls and two runtime turns). */
  rounds: number;
  /** How long a pending call may take before it counts as a hang. */
  hangMs: number;
  /** Rapid truncate-and-append cycles afterwards, racing the follower's scans. */
  storm: number;
}

const FAULTS: readonly LogFault[] = ['truncate', 'replace', 'delete-recreate'];

function inject(fault: LogFault, log: string): void {
  if (fault === 'truncate') truncateSync(log, 0);
  else if (fault === 'replace') {
    writeFileSync(`${log}.new`, '');
    renameSync(`${log}.new`, log);
  } else {
    unlinkSync(log);
    writeFileSync(log, '');
  }
}

type Outcome = { ok: true; value: string } | { ok: false; error: string };

const settle = <T>(p: Promise<T>, map: (v: T) => string): Promise<Outcome> =>
  p.then(
    (v) => ({ ok: true, value: map(v) }),
    (e: Error) => ({ ok: false, error: `${(e as { code?: string }).code ?? e.name}: ${e.message}` }),
  );

const replyContent = (r: ChatResult): string =>
  r.status === 200 ? (JSON.parse(r.body) as { choices: { message: { content: string } }[] }).choices[0]!.message.content : `HTTP ${r.status} ${r.body.slice(0, 160)}`;

/** Runs the scenario; returns its figures (lost = calls that neither got their answer nor a clear error). */
export async function truncationAndReplacement(params: TruncationParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('truncation');
  const { service, log, client } = session;
  const outcomes: Record<string, number> = {};
  const count = (key: string): void => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  let lost = 0;
  let index = 1;
  try {
    for (let round = 0; round < params.rounds; round++) {
      for (const fault of FAULTS) {
        const k = index;
        // Agent call k waits for its reply; the runtime has read request k and waits for k+1.
        const first = settle(postChat(service.url, chatBody(`call-${k}`), { timeoutMs: params.hangMs }), replyContent);
        const request = await client.popRequest(k, { timeoutMs: params.hangMs });
        findings.check(request.includes(`call-${k}`), `${fault}: request ${k} read back as ${request.slice(0, 80)}`);
        const next = settle(client.popRequest(k + 1, { timeoutMs: params.hangMs }), (t) => t);
        await sleep(50);
        inject(fault, log);
        await sleep(250);
        findings.check((await health(service.url)) === 200, `${fault}: the service stopped answering /health`);
        // A new call after the fault must reach the runtime through the new file.
        const second = settle(postChat(service.url, chatBody(`call-${k + 1}`), { timeoutMs: params.hangMs }), replyContent);
        let runtimeSaw = await next;
        if (runtimeSaw.ok) {
          count(`${fault}: runtime wait resumed`);
        } else if (runtimeSaw.error.startsWith('RMS_TIMEOUT')) {
          lost++;
          findings.check(false, `${fault}: the runtime waiting for request ${k + 1} never saw it (hung until its ${params.hangMs} ms timeout)`);
        } else {
          // Failed with a clear error: a runtime then looks again, and must find the request.
          count(`${fault}: runtime wait failed (${runtimeSaw.error.split(':')[0]}), a new wait got it`);
          runtimeSaw = await settle(client.popRequest(k + 1, { timeoutMs: params.hangMs }), (t) => t);
          findings.check(runtimeSaw.ok, `${fault}: after its wait failed, a new wait for request ${k + 1} ended with ${runtimeSaw.ok ? '' : runtimeSaw.error}`);
        }
        if (runtimeSaw.ok) findings.check(runtimeSaw.value.includes(`call-${k + 1}`), `${fault}: the runtime waiting for request ${k + 1} got ${runtimeSaw.value.slice(0, 80)}`);
        // The runtime answers both calls into the new file.
        const pushes = await settle(
          (async () => {
            await client.pushResponse(k, replyBody(`reply-${k}`));
            await client.pushResponse(k + 1, replyBody(`reply-${k + 1}`));
            return 'pushed';
          })(),
          (v) => v,
        );
        findings.check(pushes.ok, `${fault}: the runtime could not answer: ${pushes.ok ? '' : pushes.error}`);
        for (const [i, call] of [[k, await first], [k + 1, await second]] as const) {
          if (call.ok && call.value === `reply-${i}`) count(`${fault}: agent call answered`);
          else if (call.ok && call.value.startsWith('HTTP 5')) count(`${fault}: agent call failed with ${call.value.slice(0, 8)}`);
          else {
            lost++;
            count(`${fault}: agent call lost`);
            findings.check(false, `${fault}: agent call ${i} ended with ${call.ok ? call.value : call.error}`);
          }
        }
        index += 2;
      }
    }
    for (let i = 0; i < params.storm; i++) {
      truncateSync(log, 0);
      writeFileSync(log, `LLM_RESPONSE_START{"storm":${i}}LLM_RESPONSE_END{"timestamp": 0, "index": ${index + 100}}\n`, { flag: 'a' });
      if (i % 50 === 0) await sleep(1);
    }
    truncateSync(log, 0);
    // After the storm, one more turn must work end to end.
    const after = settle(postChat(service.url, chatBody(`call-${index}`), { timeoutMs: params.hangMs }), replyContent);
    let seen = await settle(client.popRequest(index, { timeoutMs: params.hangMs }), (t) => t);
    if (!seen.ok && !seen.error.startsWith('RMS_TIMEOUT')) {
      count(`storm: runtime wait failed (${seen.error.split(':')[0]}), a new wait got it`);
      seen = await settle(client.popRequest(index, { timeoutMs: params.hangMs }), (t) => t);
    }
    findings.check(seen.ok && seen.value.includes(`call-${index}`), `after the storm the runtime did not get request ${index}: ${seen.ok ? seen.value.slice(0, 80) : seen.error}`);
    await client.pushResponse(index, replyBody(`reply-${index}`));
    const afterOutcome = await after;
    if (!findings.check(afterOutcome.ok && afterOutcome.value === `reply-${index}`, `after the storm call ${index} ended with ${afterOutcome.ok ? afterOutcome.value : afterOutcome.error}`)) lost++;
    index++;
    findings.check((await health(service.url)) === 200, 'the service stopped answering /health');
    findings.check(service.child.exitCode === null, `the service exited (${service.child.exitCode})`);
    return {
      scenario: 'Truncation and replacement',
      load: `${index - 1} agent calls and runtime turns, one waiting of each across every fault`,
      faults: `${params.rounds * 3} faults: ${params.rounds}x truncated to zero, ${params.rounds}x replaced (new inode), ${params.rounds}x deleted and re-created, then ${params.storm} truncate-and-append cycles in a burst`,
      inputs: 'chat calls before and after each fault',
      lost,
      measured: outcomes,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await session.close();
  }
}
