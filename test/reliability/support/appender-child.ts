/**
 * A writer process for the concurrent-appender scenario: appends its lines to the log with
 * the project's appendLine (one write(2) per line on O_APPEND, the path both the service and
 * the runtime take). argv: log writer count bigEvery bigBytes mediumShare. Prints one JSON
 * line with what it wrote.
 */
import { appendLine, closeAppendFd, openAppendFd } from '../../../src/log-file/index.js';
import { buildLine, lineSize, type SizePlan } from './test-lines.js';

const [log, writerArg, countArg, bigEvery, bigBytes, mediumShare] = process.argv.slice(2);
const writer = Number(writerArg);
const count = Number(countArg);
const plan: SizePlan = { bigEvery: Number(bigEvery), bigBytes: Number(bigBytes), mediumShare: Number(mediumShare) };
const fd = openAppendFd(log!);
let bytes = 0;
let failed = 0;
const started = performance.now();
for (let seq = 0; seq < count; seq++) {
  const line = buildLine(writer, seq, lineSize(plan, writer, seq));
  try {
    appendLine(fd, line);
    bytes += line.length;
  } catch (err) {
    failed++;
    process.stderr.write(`writer ${writer} line ${seq}: ${(err as Error).message}\n`);
  }
}
closeAppendFd(fd);
process.stdout.write(JSON.stringify({ writer, lines: count - failed, failed, bytes, ms: performance.now() - started }) + '\n');
