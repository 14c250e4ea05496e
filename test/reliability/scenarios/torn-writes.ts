/**
 * A writer appends each line in many small writes with pauses. Readers poll meanwhile: every
 * scan engine, the follower and the runtime client. None may ever report a partial record,
 * and a scanner's saved offset may never pass the start of the partial line.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { LogFollower } from '../../../src/follower/index.js';
import { openScanner, type LogScanner } from '../../../src/scanner/index.js';
import { availableEngines } from '../../../src/scanner/load.js';
import { RecordKind, recordAt, type ScanResult } from '../../../src/scanner/types.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { exited } from '../support/processes.js';
import { PROJECT_ROOT, sleep, tempDir, tsxArgs } from '../support/project.js';
import { tornPayload } from '../support/torn-lines.js';

export interface TornWritesParams {
  lines: number;
  /** Largest single write, bytes. */
  maxChunk: number;
  /** Longest pause between two writes, ms. */
  maxPauseMs: number;
}

interface ReaderTally {
  name: string;
  records: number;
  /** Polls that found bytes after the last complete line. */
  partialSeen: number;
}

/** Runs the scenario; returns its figures (lost = lines some reader did not get whole). */
export async function tornWrites(params: TornWritesParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const dir = tempDir('torn');
  const findings = new Findings();
  const log = join(dir.path, 'LLMService.log');
  closeSync(openSync(log, 'w'));
  const probe = openSync(log, 'r');
  const byteAt = (offset: number): number => {
    const b = Buffer.alloc(1);
    readSync(probe, b, 0, 1, offset);
    return b[0]!;
  };
  const offsetOk = (who: string, offset: number): void => {
    if (offset > 0) findings.check(byteAt(offset - 1) === 0x0a, `${who}: saved offset ${offset} is inside a line`);
  };
  const tallies: ReaderTally[] = [];
  const checkBatch = (who: string, tally: ReaderTally, batch: ScanResult, scanner: LogScanner): void => {
    for (let i = 0; i < batch.count; i++) {
      const record = recordAt(batch, i);
      const want = tally.records + 1;
      const ok = record.kind === RecordKind.Request && record.index === want && scanner.readPayloadText(record) === tornPayload(want);
      findings.check(ok, `${who}: record ${i} of a batch (kind ${record.kind}, index ${record.index}) is not request ${want} whole`);
      tally.records = Math.max(tally.records + 1, record.index);
    }
    if (batch.size > batch.nextOffset) tally.partialSeen++;
    offsetOk(who, batch.nextOffset);
  };
  const writer = spawn(process.execPath, tsxArgs('../support/slow-writer-child.ts', log, String(params.lines), String(params.maxChunk), String(params.maxPauseMs)), {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let writerOut = '';
  writer.stdout!.setEncoding('utf8').on('data', (d: string) => (writerOut += d));
  // Readers 1..n: every engine polling on its own.
  const pollers = availableEngines().map((engine) => {
    const scanner = openScanner(log, { engine });
    const tally: ReaderTally = { name: `${engine.kind} engine`, records: 0, partialSeen: 0 };
    tallies.push(tally);
    let offset = 0;
    const timer = setInterval(() => {
      const batch = scanner.scan(offset);
      checkBatch(tally.name, tally, batch, scanner);
      offset = batch.nextOffset;
    }, 1);
    return { timer, scanner };
  });
  // The follower, as the service uses it.
  const follower = new LogFollower(log, { pollIntervalMs: 5 });
  const followerTally: ReaderTally = { name: 'follower', records: 0, partialSeen: 0 };
  tallies.push(followerTally);
  follower.onRecords((batch, scanner) => {
    checkBatch('follower', followerTally, batch, scanner);
    offsetOk('follower', follower.offset);
  });
  // The runtime client, waiting for each request in turn.
  const client = new ModelClient({ logFile: log });
  const clientTally: ReaderTally = { name: 'client', records: 0, partialSeen: 0 };
  tallies.push(clientTally);
  try {
    for (let index = 1; index <= params.lines; index++) {
      const text = await client.popRequest(index, { timeoutMs: 60_000 });
      if (findings.check(text === tornPayload(index), `client: request ${index} came back as ${text.length} chars, not whole`)) clientTally.records++;
    }
    await exited(writer);
    await sleep(50);
    follower.poke();
    for (const p of pollers) clearInterval(p.timer);
    for (const p of pollers) {
      p.scanner.close();
    }
  } finally {
    for (const p of pollers) clearInterval(p.timer);
    follower.close();
    client.close();
    closeSync(probe);
    writer.kill();
    dir.cleanup();
  }
  const writes = (JSON.parse(writerOut || '{"writes":0}') as { writes: number }).writes;
  const worst = Math.min(...tallies.map((t) => t.records));
  return {
    scenario: 'Torn writes',
    load: `${params.lines} request lines (60 B to 64 KiB) written in ${writes} writes of 1 to ${params.maxChunk} B, pauses up to ${params.maxPauseMs} ms`,
    faults: 'partial lines at the end of the log while readers poll',
    inputs: `readers: ${tallies.map((t) => t.name).join(', ')}`,
    lost: params.lines - worst,
    measured: Object.fromEntries(tallies.filter((t) => t.name.endsWith('engine')).map((t) => [`${t.name}: polls that saw a partial line`, t.partialSeen])),
    violations: findings.violations,
    seconds: (performance.now() - started) / 1000,
  };
}
