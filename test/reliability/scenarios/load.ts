/**
 * Many agents at once against one service: every request waits, the runtime answers all of
 * them in a random order, and each caller must get the reply meant for it. The delivery
 * latency is measured from the response line's append to the caller holding the reply.
 */
import { join } from 'node:path';
import { appendLine, closeAppendFd, openAppendFd } from '../../../src/log-file/index.js';
import { compactJson, encodeResponseLine } from '../../../src/protocol/index.js';
import { openScanner } from '../../../src/scanner/index.js';
import { RecordKind, recordAt } from '../../../src/scanner/types.js';
import { chatBody, health, postChat, type ChatResult } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { eventually, percentile, tempDir } from '../support/project.js';
import { startServiceProcess } from '../support/service-process.js';

export interface LoadParams {
  requests: number;
  /** The service's scan engine; default what the loader picks. */
  scanner?: 'ts' | 'native';
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Runs the scenario; returns its figures (lost = callers without their own reply). */
export async function concurrentLoad(params: LoadParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const dir = tempDir('load');
  const findings = new Findings();
  const service = await startServiceProcess({ dataDir: dir.path }, { scanner: params.scanner });
  try {
    const log = join(dir.path, 'LLMService.log');
    const sentAt = new Map<string, number>();
    const giveUp = new AbortController();
    const calls: Promise<{ k: number; result: ChatResult } | { k: number; error: string }>[] = Array.from({ length: params.requests }, (_, k) =>
      postChat(service.url, chatBody(`caller-${k}`), { timeoutMs: 600_000, signal: giveUp.signal }).then(
        (result) => ({ k, result }),
        (err: Error) => ({ k, error: err.message }),
      ),
    );
    // The runtime: wait until every request is in the log, then answer in a random order.
    const scanner = openScanner(log);
    const requests: { index: number; tag: string }[] = [];
    let offset = 0;
    await eventually(
      `${params.requests} request lines`,
      () => {
        for (let batch = scanner.scan(offset); batch.count > 0 || batch.nextOffset > offset; batch = scanner.scan(offset)) {
          for (let i = 0; i < batch.count; i++) {
            const record = recordAt(batch, i);
            if (record.kind !== RecordKind.Request) continue;
            const body = JSON.parse(scanner.readPayloadText(record)) as { messages: { content: string }[] };
            requests.push({ index: record.index, tag: body.messages[0]!.content });
          }
          offset = batch.nextOffset;
        }
        return requests.length >= params.requests ? true : undefined;
      },
      120_000,
    );
    scanner.close();
    const indexes = new Set(requests.map((r) => r.index));
    findings.check(indexes.size === params.requests && Math.max(...indexes) === params.requests, `request indexes are not 1..${params.requests} without gaps or repeats`);
    const fd = openAppendFd(log);
    for (const { index, tag } of shuffle(requests)) {
      const at = performance.timeOrigin + performance.now();
      sentAt.set(tag, at);
      appendLine(fd, encodeResponseLine(compactJson(JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `reply to ${tag}` } }] })), index));
    }
    closeAppendFd(fd);
    // Every reply is in the log now: a caller still waiting after this long lost its reply.
    const deadline = setTimeout(() => giveUp.abort(), 30_000 + params.requests * 20);
    const outcomes = await Promise.all(calls);
    clearTimeout(deadline);
    let delivered = 0;
    const delivery: number[] = [];
    const roundTrip: number[] = [];
    for (const outcome of outcomes) {
      const tag = `caller-${outcome.k}`;
      if ('error' in outcome) {
        findings.check(false, `${tag}: ${outcome.error}`);
        continue;
      }
      const r: ChatResult = outcome.result;
      const content = r.status === 200 ? (JSON.parse(r.body) as { choices: { message: { content: string } }[] }).choices[0]!.message.content : '';
      if (findings.check(r.status === 200 && content === `reply to ${tag}`, `${tag} got ${r.status} "${content || r.body.slice(0, 120)}"`)) {
        delivered++;
        delivery.push(r.at - sentAt.get(tag)!);
        roundTrip.push(r.ms);
      }
    }
    findings.check((await health(service.url)) === 200, 'the service stopped answering /health');
    const memory = await service.memory();
    return {
      scenario: `Load (${params.scanner ?? 'default'} scanner)`,
      load: `${params.requests} concurrent chat calls on one service, answered in random order`,
      faults: 'none (concurrency and out-of-order answers)',
      inputs: `${params.requests} distinct callers`,
      lost: params.requests - delivered,
      measured: {
        'delivery p50': `${percentile(delivery, 50).toFixed(1)} ms`,
        'delivery p99': `${percentile(delivery, 99).toFixed(1)} ms`,
        'delivery max': `${Math.max(...delivery).toFixed(1)} ms`,
        'round trip p99': `${percentile(roundTrip, 99).toFixed(0)} ms`,
        'service RSS after': `${(memory.rss / 2 ** 20).toFixed(0)} MiB`,
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await service.stop();
    dir.cleanup();
  }
}
