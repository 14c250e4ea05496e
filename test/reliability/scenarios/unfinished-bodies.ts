/**
 * Issue 14, degradation 1: request bodies that never finish. Before the fix 16 connections each
 * sending 60 MiB of chunked body and never ending it took the service from 59 MB to 1.05 GB,
 * and slow chunked connections stayed open past 100 s. Now the bytes all bodies in flight may
 * hold are bounded (past it: 503), and each body must arrive within the body timeout (past it:
 * 408, connection closed). The service's resident set is sampled from outside, and every
 * connection must be answered and closed by the service itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { chatBody, health, postChat } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { rssBytes, sampleRss } from '../support/proc.js';
import { mib, percentile, sleep, tempDir } from '../support/project.js';
import { startServiceProcess } from '../support/service-process.js';

export interface UnfinishedBodiesParams {
  /** Connections that each send `bodyBytes` of chunked body at full speed and then stop, unfinished. */
  fastConnections: number;
  bodyBytes: number;
  /** Connections that send one byte of chunked body a second. */
  slowConnections: number;
  /** The service's body_timeout; undefined: its default (60 s). */
  bodyTimeoutMs?: number;
  /** The service's body budget; undefined: its default (256 MiB). */
  bodyBudgetBytes?: number;
  /** How long to wait, after the timeout, for every connection to be closed. */
  graceMs: number;
}

interface Connection {
  /** The status line the service answered, if any. */
  status?: number;
  /** When the service closed it (ms after the start). */
  closedAt?: number;
  sent: number;
}

const HEAD = 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

function open(port: number, t0: number): { socket: Socket; state: Connection } {
  const state: Connection = { sent: 0 };
  const socket = connect(port, '127.0.0.1');
  let head = '';
  socket.on('data', (d: Buffer) => {
    if (state.status !== undefined) return;
    head += d.toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
    if (match) state.status = Number(match[1]);
  });
  socket.on('close', () => (state.closedAt = performance.now() - t0));
  socket.on('error', () => undefined);
  socket.write(HEAD);
  return { socket, state };
}

/** Sends `total` bytes as 64 KiB chunks as fast as the service reads them; never sends the last chunk. */
async function sendFast(socket: Socket, state: Connection, total: number): Promise<void> {
  const data = Buffer.alloc(64 * 1024, 0x61);
  const chunk = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
  while (state.sent < total && state.closedAt === undefined && state.status === undefined) {
    state.sent += data.length;
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done).off('close', done);
          resolve();
        };
        socket.once('drain', done).once('close', done);
      });
    }
  }
}

/** Runs the scenario; returns its figures (lost = connections the service never answered or never closed). */
export async function unfinishedBodies(params: UnfinishedBodiesParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const dir = tempDir('bodies');
  const service = await startServiceProcess({
    dataDir: dir.path,
    ...(params.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: params.bodyTimeoutMs }),
    ...(params.bodyBudgetBytes === undefined ? {} : { bodyBudgetBytes: params.bodyBudgetBytes }),
  });
  const port = Number(new URL(service.url).port);
  const log = join(dir.path, 'LLMService.log');
  const timeoutMs = params.bodyTimeoutMs ?? 60_000;
  const budget = params.bodyBudgetBytes ?? 256 * 2 ** 20;
  const sockets: Socket[] = [];
  try {
    const baseline = rssBytes(service.pid);
    const sampler = sampleRss(service.pid);
    const t0 = performance.now();
    const fast = Array.from({ length: params.fastConnections }, () => open(port, t0));
    const slow = Array.from({ length: params.slowConnections }, () => open(port, t0));
    sockets.push(...fast.map((c) => c.socket), ...slow.map((c) => c.socket));
    const dribble = setInterval(() => {
      for (const { socket, state } of slow) if (state.closedAt === undefined) (socket.write('1\r\na\r\n'), (state.sent += 1));
    }, 1000);
    const sending = Promise.all(fast.map(({ socket, state }) => sendFast(socket, state, params.bodyBytes)));
    // While they hold on, an ordinary call still reaches the log, or is told at once that the service is busy.
    await sleep(Math.min(1000, timeoutMs / 2));
    const during = await postChat(service.url, chatBody('during-the-flood'), { timeoutMs: 3000 }).catch((e: Error) => ({ status: -1, body: e.message }));
    const reached = existsSync(log) && readFileSync(log, 'utf8').includes('during-the-flood');
    findings.check(reached || (during.status === 503 && during.body.includes('RMS_BUSY')), `a call during the flood got ${during.status} ${during.body.slice(0, 100)} and did not reach the log`);
    findings.check((await health(service.url)) === 200, '/health stopped answering during the flood');
    await sending;
    const deadline = performance.now() + timeoutMs + params.graceMs;
    while (performance.now() < deadline && [...fast, ...slow].some((c) => c.state.closedAt === undefined)) await sleep(100);
    clearInterval(dribble);
    const peak = sampler.stop();
    const all = [...fast, ...slow].map((c) => c.state);
    const open_ = all.filter((c) => c.closedAt === undefined).length;
    const unanswered = all.filter((c) => c.status === undefined).length;
    findings.check(open_ === 0, `${open_} of ${all.length} connections still open ${((timeoutMs + params.graceMs) / 1000).toFixed(0)} s after they began`);
    findings.check(unanswered === 0, `${unanswered} of ${all.length} connections closed or left without an answer`);
    findings.check(peak - baseline < budget + 128 * 2 ** 20, `the service went from ${mib(baseline)} to ${mib(peak)} with a body budget of ${mib(budget)}`);
    const statuses: Record<string, number> = {};
    for (const c of all) statuses[String(c.status ?? 'none')] = (statuses[String(c.status ?? 'none')] ?? 0) + 1;
    const closed = all.map((c) => c.closedAt ?? Infinity);
    findings.check(service.child.exitCode === null, `the service exited (${service.child.exitCode})`);
    findings.check((await health(service.url)) === 200, '/health stopped answering after the flood');
    return {
      scenario: 'Unfinished request bodies',
      load: `${params.fastConnections} connections x ${mib(params.bodyBytes)} of chunked body at full speed, ${params.slowConnections} sending one byte a second; none ends its body`,
      faults: `bodies never finished; body_timeout ${timeoutMs / 1000} s, body budget ${mib(budget)}`,
      inputs: `${mib(all.reduce((sum, c) => sum + c.sent, 0))} offered in all`,
      lost: open_ + unanswered,
      measured: {
        'service RSS': `${mib(baseline)} at start, peak ${mib(peak)}`,
        answers: Object.entries(statuses).map(([k, v]) => `${k}: ${v}`).join(', '),
        'closed by the service after (p50 / max)': `${(percentile(closed, 50) / 1000).toFixed(1)} / ${(Math.max(...closed) / 1000).toFixed(1)} s`,
        'a call during the flood': reached ? 'reached the log' : `${during.status}`,
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await service.stop();
    dir.cleanup();
  }
}
