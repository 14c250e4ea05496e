/**
 * Appends request lines the wrong way on purpose: each line in many small writes with pauses
 * between them, so that readers keep finding a partial line at the end of the log.
 * argv: log count maxChunk maxPauseMs. Prints `{ writes }` when done.
 */
import { closeSync, openSync, writeSync, constants } from 'node:fs';
import { tornLine } from './torn-lines.js';

const [log, countArg, maxChunkArg, maxPauseArg] = process.argv.slice(2);
const fd = openSync(log!, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
const maxChunk = Number(maxChunkArg);
const maxPause = Number(maxPauseArg);
let writes = 0;
for (let index = 1; index <= Number(countArg); index++) {
  const line = tornLine(index);
  for (let at = 0; at < line.length; ) {
    const n = Math.min(line.length - at, 1 + Math.floor(Math.random() * maxChunk));
    at += writeSync(fd, line, at, n);
    writes++;
    if (maxPause > 0) await new Promise((r) => setTimeout(r, Math.random() * maxPause));
  }
}
closeSync(fd);
process.stdout.write(JSON.stringify({ writes }) + '\n');
