/**
 * Three processes append to one log at once (one plays the service and writes request lines,
 * two play runtimes and write response lines), lines from 10 bytes to 8 MiB; every line must
 * be read back whole, byte for byte, in each writer's order, by every scan engine.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { availableEngines } from '../../../src/scanner/load.js';
import { RecordKind, type ScanEngine } from '../../../src/scanner/types.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { run } from '../support/processes.js';
import { mib, PROJECT_ROOT, tempDir, tsxArgs } from '../support/project.js';
import { readBack } from '../support/read-back.js';
import { buildLine, identifyLine, lineSize, type SizePlan } from '../support/test-lines.js';

export interface ConcurrentAppendersParams {
  /** Lines in all, shared by the three writers. */
  lines: number;
  plan: SizePlan;
  /** The engines that read the log back; default every engine that loads here. */
  engines?: ScanEngine[];
}

const WRITERS = 3;

/** Runs the scenario; returns its figures (lost = lines not read back whole, in the worst engine). */
export async function concurrentAppenders(params: ConcurrentAppendersParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const dir = tempDir('appenders');
  const findings = new Findings();
  try {
    const log = join(dir.path, 'LLMService.log');
    const perWriter = Math.ceil(params.lines / WRITERS);
    const { plan } = params;
    const writers = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        run(process.execPath, tsxArgs('./appender-child.ts', log, String(w), String(perWriter), String(plan.bigEvery), String(plan.bigBytes), String(plan.mediumShare)), { cwd: PROJECT_ROOT, timeoutMs: 600_000 }),
      ),
    );
    let written = 0;
    let bytes = 0;
    let writeMs = 0;
    for (const w of writers) {
      if (!findings.check(w.code === 0, `a writer failed (exit ${w.code}): ${w.stderr.trim()}`)) continue;
      const report = JSON.parse(w.stdout) as { lines: number; failed: number; bytes: number; ms: number };
      findings.check(report.failed === 0, `a writer could not append ${report.failed} lines: ${w.stderr.trim()}`);
      written += report.lines;
      bytes += report.bytes;
      writeMs = Math.max(writeMs, report.ms);
    }
    const expected = WRITERS * perWriter;
    let worstWhole = expected;
    const engines = params.engines ?? availableEngines();
    for (const engine of engines) {
      const next = new Array<number>(WRITERS).fill(0);
      let whole = 0;
      const result = readBack(log, engine, (record, line) => {
        const id = identifyLine(line);
        if (!findings.check(id !== null && id.writer < WRITERS, `${engine.kind}: a line of ${line.length} bytes at ${record.lineStart} names no writer (interleaved?)`)) return;
        const { writer, seq } = id!;
        if (!findings.check(seq === next[writer], `${engine.kind}: writer ${writer} line ${seq} read where line ${next[writer]} was due (lost, duplicated or reordered)`)) {
          next[writer] = seq + 1;
          return;
        }
        next[writer] = seq + 1;
        const want = buildLine(writer, seq, lineSize(plan, writer, seq));
        // A bare line (too short to frame) starts with 't'; every reader skips it as unknown.
        const kindOk = want[0] === 0x74 ? record.kind === RecordKind.Unknown : record.kind === (writer === 0 ? RecordKind.Request : RecordKind.Response);
        if (findings.check(kindOk && line.equals(want), `${engine.kind}: writer ${writer} line ${seq} (${want.length} bytes) came back as ${line.length} bytes of kind ${record.kind}, not whole`)) whole++;
      });
      findings.check(result.endOffset === result.size, `${engine.kind}: the scan stopped at ${result.endOffset} of ${result.size} bytes (a partial line at the end)`);
      worstWhole = Math.min(worstWhole, whole);
    }
    return {
      scenario: 'Concurrent appenders',
      load: `${expected} lines, ${mib(bytes)}, 3 processes at once (1 request writer, 2 response writers)`,
      faults: 'none (contention only)',
      inputs: `line sizes 10 B to ${mib(plan.bigBytes)}: every ${plan.bigEvery}th line ${mib(plan.bigBytes)}, ${plan.mediumShare * 100}% log-uniform 64 KiB to 1 MiB, the rest log-uniform 10 B to 64 KiB`,
      lost: expected - worstWhole,
      measured: {
        'lines written': written,
        'log size': mib(statSync(log).size),
        'slowest writer': `${(writeMs / 1000).toFixed(1)} s`,
        'engines read back': engines.map((e) => e.kind).join('+'),
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    dir.cleanup();
  }
}
