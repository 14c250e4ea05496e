/**
 * Past what one write(2) can carry: Linux moves at most 0x7ffff000 bytes per write. Node's
 * writeSync (libuv) then issues a second write(2) for the rest of the buffer on its own
 * (measured with strace), so such a line is appended in two pieces and another process's
 * line can land between them. Past 2^31 - 1 bytes Node refuses the call before writing.
 * This shows what appendLine does with such lines, alone and with a concurrent appender.
 */
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendLine, closeAppendFd, openAppendFd } from '../../../src/log-file/index.js';
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

const TAIL = '"}LLM_REQUEST_END{"timestamp": 0, "index": 1}\n';

function oversizedLine(length: number): Buffer {
  const line = Buffer.alloc(length, 0x61);
  line.write('LLM_REQUEST_START{"p":"', 0, 'latin1');
  line.write(TAIL, length - TAIL.length, 'latin1');
  return line;
}

/** The last 64 bytes of every oversized line (the filler, then the end marker and meta). */
const OVERSIZED_TAIL = oversizedLine(128).subarray(-64);

/** Runs the scenario; returns its figures (lost = lines of the concurrent writer not read back whole). */
export async function oversizedLineAppend(params: OversizedLineParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const dir = tempDir('oversized');
  const findings = new Findings();
  const log = join(dir.path, 'LLMService.log');
  const stopFile = join(dir.path, 'stop');
  const measured: Record<string, string | number> = {};
  let lost = 0;
  try {
    let line: Buffer | undefined = oversizedLine(LINUX_MAX_WRITE + params.extra);
    const lineLength = line.length;
    const hammer = params.withConcurrentWriter
      ? spawn(process.execPath, tsxArgs('../support/hammer-child.ts', log, stopFile), { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
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
    measured['appendLine outcome'] = error ? `${(error as { code?: string }).code}: ${error.message.slice(0, 90)}` : 'returned success';
    let hammerWritten = 0;
    if (hammer) {
      await sleep(200);
      writeFileSync(stopFile, '');
      await exited(hammer);
      hammerWritten = (JSON.parse(hammerOut.slice(hammerOut.indexOf('{'))) as { written: number }).written;
      measured['concurrent lines written'] = hammerWritten;
    }
    measured['log size after'] = mib(statSync(log).size);
    // Count the hammer's lines that survived whole, whether the oversized line is there whole, and what else.
    let whole = 0;
    let oversizedWhole = false;
    let damaged = 0;
    let damagedBytes = 0;
    const result = readBack(log, availableEngines()[0]!, (record, text) => {
      if (record.kind === RecordKind.Response && /^LLM_RESPONSE_START\{"n":\d+\}LLM_RESPONSE_END/.test(text.subarray(0, 80).toString('latin1'))) whole++;
      else if (record.kind === RecordKind.Request && text.length === lineLength && text.subarray(-64).equals(OVERSIZED_TAIL)) oversizedWhole = true;
      else {
        damaged++;
        damagedBytes += text.length;
      }
    });
    measured['concurrent lines read back whole'] = whole;
    measured['oversized line in the log'] = oversizedWhole ? 'whole' : 'absent';
    if (damaged > 0) measured['damaged lines'] = `${damaged} (${mib(damagedBytes)})`;
    const unterminated = result.size - result.endOffset;
    if (unterminated > 0) measured['unterminated tail'] = mib(unterminated);
    // Refused with nothing left behind, or written whole: both keep the log sound.
    findings.check(error ? !oversizedWhole : oversizedWhole, error ? 'appendLine threw, yet the line is in the log' : 'appendLine returned success, yet the line is not in the log whole');
    findings.check(damaged === 0 && unterminated === 0, `the log holds ${damaged} damaged line(s) (${mib(damagedBytes)}) and ${mib(unterminated)} unterminated: the oversized line was not appended in one piece`);
    lost = hammerWritten - whole;
    findings.check(lost === 0, `${lost} line(s) of the concurrent writer were lost inside the oversized line`);
    return {
      scenario: `Line past one write (+${params.extra} B)${params.withConcurrentWriter ? ', with a concurrent writer' : ''}`,
      load: `one line of ${lineLength} bytes (0x7ffff000 + ${params.extra})${hammer ? ', plus a process appending small lines throughout' : ''}`,
      faults: lineLength > 2 ** 31 - 1 ? 'a line past 2^31 - 1 bytes, the most one Node write call takes' : 'the kernel moves at most 0x7ffff000 bytes per write(2); libuv writes the rest in a second write(2)',
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
