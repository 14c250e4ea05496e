// The log line protocol: lossless compaction, marker escapes, and one write(2) per line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendLine, closeAppendFd, compactJson, decodeUtf8, encodeRequestLine, encodeResponseLine, InvalidJsonError, openAppendFd,
  parseJsonText, REQUEST_END, REQUEST_START, RESPONSE_END, RESPONSE_START, SESSION_END, SESSION_END_LINE,
} from 'rock-model-service';

// Whitespace goes, numbers and key order stay as written, markers inside strings are escaped.
console.log(compactJson('{ "id": 12345678901234567890, "b": 1.50, "a": "say SESSION_END" }'));
const { compact, value } = parseJsonText('{"stream": true}');
console.log(compact, value.stream);
try {
  compactJson('{"model": "m",}');
} catch (err) {
  console.log(err instanceof InvalidJsonError, err.position, err.message);
}
console.log(decodeUtf8(Buffer.from('héllo')));
try {
  decodeUtf8(Buffer.from([0x68, 0xff]));
} catch (err) {
  console.log(err.code, err.message);
}

// Lines as the service and the runtime write them (meta with Python's separators, like the reference).
const dir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const path = join(dir, 'LLMService.log');
const fd = openAppendFd(path); // O_APPEND, never through a symbolic link, only onto a regular file
appendLine(fd, encodeRequestLine(compactJson('{"messages": []}'), 1, { timestampMs: 1764000000000, endpoint: '/v1/messages' }));
appendLine(fd, encodeResponseLine(compactJson('{"content": []}'), 1, 1764000000500));
appendLine(fd, SESSION_END_LINE);
closeAppendFd(fd);
process.stdout.write(readFileSync(path, 'utf8'));
console.log([REQUEST_START, REQUEST_END, RESPONSE_START, RESPONSE_END, SESSION_END].join(' '));
rmSync(dir, { recursive: true, force: true });
