/**
 * The native engine matches the TypeScript engine on generated logs of a few MiB: every
 * batch of an incremental scan (same records, same offsets, same sizes), and findLast from
 * many positions. Skipped, saying why, only when the native engine does not load here.
 */
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNativeEngine } from '../../src/scanner/load.js';
import { tsEngine } from '../../src/scanner/ts-engine.js';
import { KindMask, RECORD_STRIDE, type ScanEngine, type ScanOptions } from '../../src/scanner/types.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

/** A small deterministic generator (mulberry32), so that a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log of about `bytes` bytes: mostly requests and responses of mixed sizes, with junk, malformed lines and session ends. */
function generateLog(rand: () => number, bytes: number): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const filler = (n: number): string => {
    const words = ['hello', 'Grüße', '你好', 'SESSION_END', 'LLM_REQUEST_END', 'LLM_RESPONSE_END', '\\"', '🌍', 'x'.repeat(50)];
    let s = '';
    while (s.length < n) s += pick(words) + ' ';
    return s;
  };
  const sizes = [50, 200, 1_000, 5_000, 20_000, 150_000];
  const parts: string[] = [];
  let total = 0;
  let index = 1;
  while (total < bytes) {
    const r = rand();
    const crlf = rand() < 0.1 ? '\r' : '';
    let line: string;
    if (r < 0.4) line = `LLM_REQUEST_START{"c":"${filler(pick(sizes))}"}LLM_REQUEST_END{"timestamp": 1732500000000, "index": ${index}}${crlf}`;
    else if (r < 0.75) line = `LLM_RESPONSE_START{"c":"${filler(pick(sizes.slice(0, 3)))}"}LLM_RESPONSE_END{"index": ${index++}}${crlf}`;
    else if (r < 0.76) line = `LLM_REQUEST_START{"c":"${filler(1_500_000)}"}LLM_REQUEST_END{"index": ${index}}`;
    else if (r < 0.85) line = `LLM_REQUEST_START{"c":"${filler(pick(sizes))}"}LLM_REQUEST_END${pick(['{"index": 1.5}', '', '{"index"', '[]', '{"index": 9007199254740993}'])}`;
    else if (r < 0.9) line = `LLM_RESPONSE_START${filler(pick(sizes))}`;
    else if (r < 0.95) line = pick(['SESSION_END', 'SESSION_END \r', 'SESSION_END x', '']);
    else line = filler(pick(sizes));
    parts.push(line + '\n');
    total += line.length + 1;
  }
  return Buffer.from(parts.join(''), 'utf8');
}

function batchOf(engine: ScanEngine, fd: number, offset: number, options: ScanOptions) {
  const r = engine.scan(fd, offset, options);
  return { records: Array.from(r.records.subarray(0, r.count * RECORD_STRIDE)), count: r.count, nextOffset: r.nextOffset, size: r.size, searchedTo: r.searchedTo };
}

describe('native and TypeScript engines agree', () => {
  const { engine: native, attempts } = loadNativeEngine();
  if (!native) {
    it.skip(`native engine not available here, so there is nothing to compare: ${attempts.map((a) => `${a.place}: ${a.reason}`).join('; ')}`);
    return;
  }
  const dir = makeTempDir('equivalence');
  after(() => removeDir(dir));

  for (const seed of [1, 2, 3]) {
    it(`on a generated log of a few MiB scanned while it grows (seed ${seed}), batch for batch, resuming partial lines`, function () {
      this.timeout(120_000);
      const rand = random(seed);
      const log = generateLog(rand, 4 * 1024 * 1024);
      const path = join(dir, `grow-${seed}.log`);
      writeFileSync(path, '');
      const fd = openSync(path, 'r');
      try {
        let written = 0;
        let offset = 0;
        let lines = 0;
        // As the follower does: a partial line is searched from where the last scan stopped.
        let searchFrom: number | undefined;
        while (written < log.length) {
          const next = Math.min(log.length, written + Math.floor(rand() * 400_000) + 1);
          appendFileSync(path, log.subarray(written, next));
          written = next;
          for (;;) {
            const options: ScanOptions = {
              maxRecords: 1 + Math.floor(rand() * 50),
              maxBytes: rand() < 0.5 ? undefined : 1 + Math.floor(rand() * 300_000),
              searchFrom: rand() < 0.8 ? searchFrom : undefined,
            };
            const a = batchOf(tsEngine, fd, offset, options);
            const b = batchOf(native, fd, offset, options);
            assert.deepEqual(b, a, `batch at offset ${offset} with ${JSON.stringify(options)}`);
            searchFrom = a.searchedTo;
            if (a.nextOffset === offset) break;
            offset = a.nextOffset;
            lines += a.count;
          }
        }
        assert.equal(offset, log.length);
        assert.ok(lines > 30, `only ${lines} lines generated`);
      } finally {
        closeSync(fd);
      }
    });
  }

  it('findLast gives the same line from many positions and for every mask', function () {
    this.timeout(120_000);
    const rand = random(7);
    const log = generateLog(rand, 3 * 1024 * 1024);
    const path = join(dir, 'find-last.log');
    writeFileSync(path, Buffer.concat([log, Buffer.from('LLM_REQUEST_START{"partial": tr')]));
    const fd = openSync(path, 'r');
    const lineStarts = [0];
    for (let i = log.indexOf(10); i >= 0; i = log.indexOf(10, i + 1)) lineStarts.push(i + 1);
    const masks = [KindMask.Request | KindMask.SessionEnd, KindMask.Response, KindMask.Request, KindMask.Malformed, KindMask.Unknown | KindMask.SessionEnd];
    try {
      const positions: (number | undefined)[] = [undefined];
      for (let i = 0; i < 150; i++) positions.push(pickPosition());
      for (const before of positions) {
        for (const mask of masks) {
          assert.deepEqual(native.findLast(fd, mask, before), tsEngine.findLast(fd, mask, before), `mask ${mask}, before ${before}`);
        }
      }
    } finally {
      closeSync(fd);
    }

    function pickPosition(): number {
      const at = lineStarts[Math.floor(rand() * lineStarts.length)]!;
      return rand() < 0.5 ? at : Math.max(0, at + Math.floor(rand() * 1000) - 500);
    }
  });
});
