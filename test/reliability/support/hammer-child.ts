/**
 * Appends small numbered response lines with appendLine until killed (SIGTERM), then prints
 * how many it wrote: the concurrent writer that an oversized line must not damage.
 * argv: log
 */
import { appendLine, encodeResponseLine, openAppendFd } from '../../../src/protocol/index.js';

const fd = openAppendFd(process.argv[2]!);
let written = 0;
let stop = false;
process.on('SIGTERM', () => (stop = true));
const tick = (): void => {
  for (let i = 0; i < 50 && !stop; i++) appendLine(fd, encodeResponseLine(`{"n":${written}}`, ++written));
  if (stop) process.stdout.write(JSON.stringify({ written }) + '\n');
  else setTimeout(tick, 1);
};
process.stdout.write('ready\n');
tick();
