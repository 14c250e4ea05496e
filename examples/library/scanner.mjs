// Reading a log with the scanner: complete lines from a saved offset, and the latest line of a kind.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableEngines, getScanEngine, KindMask, openScanner, RECORD_STRIDE, recordAt, RecordKind } from 'rock-model-service';

const dir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const path = join(dir, 'LLMService.log');
writeFileSync(
  path,
  'LLM_REQUEST_START{"messages":[]}LLM_REQUEST_END{"timestamp": 1764000000000, "index": 1}\n' +
    'LLM_RESPONSE_START{"choices":[]}LLM_RESPONSE_END{"timestamp": 1764000000500, "index": 1}\n' +
    'a line that is no record\n' +
    'LLM_REQUEST_START{"messages":[1]}LLM_REQ', // a line still being written
);

const scanner = openScanner(path); // the engine getScanEngine() picks: native when it loads, else TypeScript
console.log('kind:', scanner.kind === getScanEngine().kind);
const kindName = Object.fromEntries(Object.entries(RecordKind).map(([name, value]) => [value, name]));
let result = scanner.scan(0);
for (let i = 0; i < result.count; i++) {
  const record = recordAt(result, i);
  const payload = record.kind === RecordKind.Request || record.kind === RecordKind.Response ? scanner.readPayloadText(record) : '';
  console.log(kindName[record.kind], record.index, record.lineStart, record.lineEnd, payload);
}
console.log('next offset:', result.nextOffset, 'of', result.size, 'bytes;', result.records.length >= result.count * RECORD_STRIDE);

// The partial line is complete now: scan from where the last scan stopped.
appendFileSync(path, 'UEST_END{"timestamp": 1764000001000, "index": 2}\nSESSION_END\n');
result = scanner.scan(result.nextOffset, { searchFrom: result.searchedTo });
console.log('new records:', result.count, kindName[recordAt(result, 0).kind], kindName[recordAt(result, 1).kind]);

// findLast reads backwards: its cost follows the bytes it reads, not the size of the log.
const last = scanner.findLast(KindMask.Request | KindMask.SessionEnd);
const lastRequest = scanner.findLast(KindMask.Request);
console.log('latest:', kindName[last.kind], 'latest request:', lastRequest.index, scanner.readPayloadText(lastRequest));
console.log('before it:', scanner.findLast(KindMask.Request, lastRequest.lineStart).index);
scanner.close();

// Every engine that loads here reads the same records.
const byEngine = availableEngines().map((engine) => {
  const s = openScanner(path, { engine });
  const r = s.scan(0);
  s.close();
  return Array.from(r.records.subarray(0, r.count * RECORD_STRIDE)).join(',');
});
console.log('engines agree:', byEngine.every((records) => records === byEngine[0]));
rmSync(dir, { recursive: true, force: true });
