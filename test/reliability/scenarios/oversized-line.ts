/**
 * Past what one write(2) can carry: Linux moves at most 0x7ffff000 bytes per write, so a
 * longer line cannot be appended atomically. This shows what appendLine does with one (it
 * throws and cuts its torn tail), and what happens to another process appending at the same
 * moment.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { appendLine, closeAppendFd, openAppendFd } from '../../../src/protocol/index.js';
import { availableEngines } from '../../../src/scanner/load.js';
import { RecordKind } from '../../../src/scanner/types.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { exited } from '../support/processes.js';
import { mib, PROJECT_ROOT, sleep, tempDir, tsxArgs } from '../support/project.js';
import { readBack } from '../support/read-back.js';

/** The most one write(2) moves on Linux (MAX_RW_COUNT). */
export const LINUX_MAX_WRITE = 0x7ffff000;

export interface OversizedLineParams {
  /** Bytes past LINUX_MAX_WRITE (the line is LINUX_MAX_WRITE + extra bytes long). */
  extra: number;
  /** Also run a second appender during the oversized write. */
  withConcurrentWriter: boolean;
}

function oversizedLine(length: number): Buffer {
  const line = Buffer.alloc(length, 0x61);
  line.write('LLM_REQUEST_START{"p":"', 0, 'latin1');
  const tail = '"}LLM_REQUEST_END{"timestamp": 0, "index": 1}\n';
  line.write(tail, length - tail.length, 'latin1');
  return line;
}

/** Runs the scenario; returns its figures (lost = lines of the concurrent writer not read back whole). */
export async function oversizedLineAppend(params: OversizedLineParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const dir = tempDir('oversized');
  const findings = new Findings();
  const log = join(dir.path, 'LLMService.log');
  const measured: Record<string, string | number> = {};
  let lost = 0;
  try {
    let line: Buffer | undefined = oversizedLine(LINUX_MAX_WRITE + params.extra);
    const lineLength = line.length;
    const hammer = params.withConcurrentWriter
      ? spawn(process.execPath, tsxArgs('../support/hammer-child.ts', log), { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
      : undefined;
    let hammerOut = '';
    if (hammer) {
      hammer.stdout!.setEncoding('utf8').on('data', (d: string) => (hammerOut += d));
      while (!hammerOut.includes('ready')) await sleep(10);
      await sleep(200);
    }
    const fd = openAppendFd(log);
    let error: Error | undefined;
    const writeStarted = performance.now();
    try {
      appendLine(fd, line);
    } catch (err) {
      error = err as Error;
    } finally {
      closeAppendFd(fd);
    }
    line = undefined;
    measured['append of the oversized line'] = `${((performance.now() - writeStarted) / 1000).toFixed(1)} s`;
    findings.check(error !== undefined, `appendLine accepted a ${lineLength}-byte line, more than one write can carry`);
    measured['appendLine outcome'] = error ? `${(error as { code?: string }).code}: ${error.message.slice(0, 90)}` : 'no error';
    let hammerWritten = 0;
    if (hammer) {
      await sleep(200);
      hammer.kill('SIGTERM');
      await exited(hammer);
      hammerWritten = (JSON.parse(hammerOut.slice(hammerOut.indexOf('{'))) as { written: number }).written;
      measured['concurrent lines written'] = hammerWritten;
    }
    const size = statSync(log).size;
    measured['log size after'] = mib(size);
    // Whatever engine: count the hammer's lines that survived whole, and what else is there.
    const engine = availableEngines()[0]!;
    let whole = 0;
    let other = 0;
    let otherBytes = 0;
    const result = readBack(log, engine, (record, text) => {
      if (record.kind === RecordKind.Response && /^LLM_RESPONSE_START\{"n":\d+\}LLM_RESPONSE_END/.test(text.subarray(0, 80).toString('latin1'))) whole++;
      else {
        other++;
        otherBytes += text.length;
      }
    });
    measured['lines read back whole'] = whole;
    if (other > 0) measured['damaged lines'] = `${other} (${mib(otherBytes)}, begin with the torn oversized line)`;
    const unterminated = result.size - result.endOffset;
    if (unterminated > 0) measured['unterminated tail'] = mib(unterminated);
    if (!hammer) {
      findings.check(size === 0, `the torn ${mib(size)} of the refused line stayed in the log`);
    } else {
      lost = hammerWritten - whole;
      findings.check(lost === 0, `${lost} line(s) of a concurrent writer were lost: glued to the torn oversized line`);
      findings.check(unterminated === 0 && other === 0, `the log holds ${other} damaged line(s) and ${mib(unterminated)} unterminated after the refused line`);
    }
    return {
      scenario: params.withConcurrentWriter ? 'Line past one write, with a concurrent writer' : 'Line past one write',
      load: `one line of ${lineLength} bytes (0x7ffff000 + ${params.extra})${hammer ? ', plus a process appending small lines throughout' : ''}`,
      faults: 'short write: the kernel moves at most 0x7ffff000 bytes per write(2)',
      inputs: '1 oversized line',
      lost,
      measured,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    dir.cleanup();
  }
}
