/**
 * Appends small numbered response lines with appendLine in a tight loop until a stop file
 * appears, then prints how many it wrote: the concurrent writer that an oversized line must
 * not damage. A tight loop keeps a write of its own waiting on the file whenever the other
 * writer's write(2) returns, which is when an unprotected second write(2) would let it in.
 * argv: log stopFile
 */
import { existsSync } from 'node:fs';
import { appendLine, openAppendFd } from '../../../src/log-file/index.js';
import { encodeResponseLine } from '../../../src/protocol/index.js';

const [log, stopFile] = process.argv.slice(2);
const fd = openAppendFd(log!);
let written = 0;
process.stdout.write('ready\n');
while (written % 200 !== 0 || !existsSync(stopFile!)) appendLine(fd, encodeResponseLine(`{"n":${written}}`, ++written));
process.stdout.write(JSON.stringify({ written }) + '\n');
