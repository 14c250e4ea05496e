// Following a growing log: one LogFollower per file, woken by file events (a 100 ms poll as a safety net).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLine, closeAppendFd, encodeRequestLine, encodeResponseLine, LogFollower, openAppendFd, recordAt, RecordKind, SESSION_END_LINE } from 'rock-model-service';

const dir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const path = join(dir, 'LLMService.log');
const follower = new LogFollower(path); // the file need not exist yet
console.log('log:', follower.unavailable.reason);
follower.onAvailability((unavailable) => console.log('log:', unavailable === undefined ? 'readable' : unavailable.reason));

const ended = new Promise((resolve) => {
  follower.onRecords((batch, scanner) => {
    // Called synchronously per batch; copy what you keep (the array is reused by the next scan).
    for (let i = 0; i < batch.count; i++) {
      const record = recordAt(batch, i);
      if (record.kind === RecordKind.SessionEnd) resolve();
      else console.log(record.kind === RecordKind.Request ? 'request' : 'response', record.index, scanner.readPayloadText(record));
    }
  });
});

const fd = openAppendFd(path); // creates the log
appendLine(fd, encodeRequestLine('{"messages":[]}', 1));
appendLine(fd, encodeResponseLine('{"choices":[]}', 1));
follower.poke(); // this process just appended: scan now instead of waiting for the event
appendLine(fd, SESSION_END_LINE); // no poke: the file event wakes the follower
// The follower's watcher and poll never keep a process alive: hold a handle of your own while you wait.
const keepAlive = setTimeout(() => console.log('no SESSION_END within 10 s'), 10_000);
await ended;
clearTimeout(keepAlive);
console.log('offset:', follower.offset, 'scanned:', follower.bytesScanned);

follower.close();
closeAppendFd(fd);
rmSync(dir, { recursive: true, force: true });
