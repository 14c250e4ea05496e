/**
 * The native engine at its edges: the addon's argument and I/O errors, offsets past 4 GiB,
 * a file that shrinks while it is mapped (SIGBUS), and byte-for-byte agreement with the
 * TypeScript engine on meta JSON that JSON.parse judges (the C++ side has its own parser).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors.js';
import { loadNativeEngine } from '../../src/scanner/load.js';
import { bindingProblem, EXPECTED_LAYOUT, type NativeBinding } from '../../src/scanner/native-engine.js';
import { tsEngine } from '../../src/scanner/ts-engine.js';
import { ALL_KINDS, F_LINE_END, KindMask, RECORD_LAYOUT, RecordKind, type ScanEngine } from '../../src/scanner/types.js';
import { scanToEnd, tupleOf, withLog } from './log-files.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const ADDON = fileURLToPath(new URL('../../build/Release/rock_model_service.node', import.meta.url));
const GiB = 2 ** 30;

const requestLine = (index: number | string, payload = '{"a":1}') =>
  `LLM_REQUEST_START${payload}LLM_REQUEST_END{"timestamp": 1732500000000, "index": ${index}}\n`;

describe('native engine', function () {
  let engine: ScanEngine;
  let binding: NativeBinding;
  const dir = makeTempDir('native');

  before(function () {
    const loaded = loadNativeEngine().engine;
    if (!loaded || !existsSync(ADDON)) this.skip();
    engine = loaded;
    binding = createRequire(import.meta.url)(ADDON) as NativeBinding;
  });
  after(() => removeDir(dir));

  describe('arguments and I/O errors', () => {
    it('rejects bad arguments at the addon boundary with RMS_INVALID_ARGUMENT instead of crashing', () => {
      withLog(dir, requestLine(1), (fd) => {
        const calls: (() => unknown)[] = [
          () => (binding.scan as (...a: unknown[]) => unknown)(),
          () => binding.scan(-1, 0, undefined, 1),
          () => binding.scan(2 ** 31, 0, undefined, 1),
          () => binding.scan('3' as unknown as number, 0, undefined, 1),
          () => binding.scan(fd, -1, undefined, 1),
          () => binding.scan(fd, 0.5, undefined, 1),
          () => binding.scan(fd, Number.NaN, undefined, 1),
          () => binding.scan(fd, Number.POSITIVE_INFINITY, undefined, 1),
          () => binding.scan(fd, 2 ** 53, undefined, 1),
          () => binding.scan(fd, 0, 0, 1),
          () => binding.scan(fd, 0, Symbol('x') as unknown as number, 1),
          () => binding.scan(fd, 0, undefined, 0),
          () => binding.scan(fd, 0, undefined, 2 ** 31),
          () => binding.scan(fd, 0, undefined, { valueOf: () => 1 } as unknown as number),
          () => binding.findLast(fd, 0, -1),
          () => binding.findLast(fd, 1, -1),
          () => binding.findLast(fd, 1 << 6, -1),
          () => binding.findLast(fd, KindMask.Request, -2),
          () => binding.findLast(fd, KindMask.Request, 2 ** 53),
          () => binding.scan(fd, 0, undefined, 1, -1),
          () => binding.scan(fd, 0, undefined, 1, 0.5),
        ];
        for (const call of calls) {
          assert.throws(call, (err: Error & { code?: string }) => {
            assert.equal(err.code, 'RMS_INVALID_ARGUMENT', `${call.toString()}: ${err.message}`);
            assert.match(err.message, /must (be|combine)/);
            return true;
          });
        }
      });
    });

    it('gives the same messages as the TypeScript engine, as InvalidArgumentError', () => {
      withLog(dir, requestLine(1), (fd) => {
        const bad: [string, (e: typeof engine) => unknown][] = [
          ['negative offset', (e) => e.scan(fd, -1)],
          ['fractional offset', (e) => e.scan(fd, 1.5)],
          ['offset past 2^53', (e) => e.scan(fd, 2 ** 53)],
          ['zero maxRecords', (e) => e.scan(fd, 0, { maxRecords: 0 })],
          ['zero maxBytes', (e) => e.scan(fd, 0, { maxBytes: 0 })],
          ['unknown kind bit', (e) => e.findLast(fd, 1 << 9)],
          ['empty kind mask', (e) => e.findLast(fd, 0)],
          ['negative before', (e) => e.findLast(fd, KindMask.Request, -3)],
          ['fractional searchFrom', (e) => e.scan(fd, 0, { searchFrom: 2.5 })],
        ];
        for (const [what, call] of bad) {
          let tsMessage = '';
          assert.throws(() => call(tsEngine as typeof engine), (err: Error) => ((tsMessage = err.message), true), what);
          assert.throws(() => call(engine), (err: Error) => {
            assert.ok(err instanceof InvalidArgumentError, `${what}: ${String(err)}`);
            assert.equal(err.message, tsMessage, what);
            return true;
          });
        }
      });
    });

    it('reports a closed descriptor as EBADF with the system call, like fs does', () => {
      const fd = withLog(dir, '', (f) => f);
      for (const call of [() => engine.scan(fd, 0), () => engine.findLast(fd, KindMask.Request)]) {
        assert.throws(call, { code: 'EBADF', syscall: 'fstat', message: 'EBADF: bad file descriptor, fstat' });
      }
    });

    it('reports a descriptor that cannot be read as the errno of the failing call', () => {
      const content = requestLine(1).repeat(20000);
      const fd = openSync(join(dir, 'write-only.log'), 'w');
      try {
        writeSync(fd, content);
        // Large tails are mapped, small ones read with pread: both refuse a write-only fd.
        assert.throws(() => engine.scan(fd, 0), { code: 'EACCES', syscall: 'mmap' });
        assert.throws(() => engine.scan(fd, content.length - 1000), { code: 'EBADF', syscall: 'pread' });
      } finally {
        closeSync(fd);
      }
    });
  });

  it('reads offsets past 4 GiB exactly (a sparse 5 GiB log)', () => {
    const path = join(dir, 'sparse.log');
    const fd = openSync(path, 'w+');
    try {
      ftruncateSync(fd, 5 * GiB);
      const line = requestLine(7);
      writeSync(fd, `\n${line}`, 5 * GiB);
      const lineStart = 5 * GiB + 1;
      const expected = [RecordKind.Request, 7, lineStart, lineStart + 17, lineStart + 24, lineStart + line.length];

      const fromLine = engine.scan(fd, lineStart);
      assert.equal(fromLine.count, 1);
      assert.deepEqual(Array.from(fromLine.records.subarray(0, 6)), expected);
      assert.equal(fromLine.nextOffset, lineStart + line.length);
      assert.equal(fromLine.size, 5 * GiB + 1 + line.length);

      // From 1 MiB before: one unknown line of zeros (mapped, not copied), then the request.
      const before = engine.scan(fd, 5 * GiB - 2 ** 20);
      assert.equal(before.count, 2);
      assert.deepEqual(Array.from(before.records.subarray(0, 6)), [RecordKind.Unknown, -1, 5 * GiB - 2 ** 20, 5 * GiB - 2 ** 20, 5 * GiB - 2 ** 20, lineStart]);
      assert.deepEqual(Array.from(before.records.subarray(6, 12)), expected);

      assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.Request)!), expected);
      assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.Request)!), tupleOf(tsEngine.findLast(fd, KindMask.Request)!));
    } finally {
      closeSync(fd);
    }
  });

  describe('a file that shrinks while it is mapped', () => {
    it('survives a child process truncating and rewriting the log during many scans', async function () {
      this.timeout(60_000);
      const path = join(dir, 'shrinking.log');
      const content = Buffer.from(requestLine(1, `{"p":"${'x'.repeat(4000)}"}`).repeat(8192)); // 32 MiB: mapped, not copied
      writeFileSync(path, content);
      // The child cuts the file at a random length and writes the rest back, again and again.
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs');
           const fd = fs.openSync(process.argv[1], 'r+');
           const content = fs.readFileSync(process.argv[1]);
           process.stdout.write('ready\\n');
           for (;;) {
             const cut = Math.floor(Math.random() * content.length);
             fs.ftruncateSync(fd, cut);
             fs.writeSync(fd, content, cut, content.length - cut, cut);
           }`,
          path,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.once('data', () => resolve());
          child.once('exit', (code) => reject(new Error(`the truncating child exited early (${code})`)));
        });
        const fd = openSync(path, 'r');
        let scans = 0;
        let shrunk = 0;
        let caught = 0;
        try {
          const until = Date.now() + 2500;
          while (Date.now() < until || caught === 0) {
            if (Date.now() > until + 20_000) break;
            const r = engine.scan(fd, 0, { maxRecords: 2 ** 31 - 1 });
            scans++;
            if (r.size < content.length) shrunk++;
            // Only a fault makes the scan take a fresh size smaller than where it got to.
            if (r.nextOffset > r.size) caught++;
            assert.ok(r.nextOffset <= content.length);
            for (let i = 0; i < r.count; i++) assert.equal(r.records[i * RECORD_LAYOUT.stride + F_LINE_END], (i + 1) * (content.length / 8192));
            engine.findLast(fd, KindMask.Request);
          }
        } finally {
          closeSync(fd);
        }
        assert.ok(scans > 5, `only ${scans} scans ran`);
        assert.ok(shrunk > 0, 'no scan saw the file shrink');
        assert.ok(caught > 0, `no scan was cut short by a fault in ${scans} scans`);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('leaves a SIGBUS that no scan caused to end the process, as it would without the addon', () => {
      const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(ADDON)}); process.kill(process.pid, 'SIGBUS'); setTimeout(() => {}, 2000);`]);
      assert.equal(r.signal, 'SIGBUS');
    });
  });

  describe('agrees with the TypeScript engine record for record', () => {
    const numbers = ['1', '1.0', '1e0', '1E+0', '10e-1', '-0', '0', '-0.0', '1e400', '-1e400', '1e-400', '-1e-400', '5e-324',
      '9007199254740991', '-9007199254740991', '9007199254740992', '9007199254740993', '0.5', '01', '1.', '.5', '-', '+1',
      '2e', '1e-0', '123456789012345678901234567890', '0.1e1', '4.000000000000000000001', 'true', 'null', '"1"', '[1]', '{}'];
    const keys = ['"index"', '"\\u0069ndex"', '"ind\\u0065x"', '"Index"', '"index "', '"inde"', '"indexx"', '"\\u0069nde"', '"timestamp"', '"a\\"b"', '"\\/"'];
    const ws = fc.constantFrom('', ' ', '\t', '\r', ' \r ', '\f', '\u00a0', '\v');
    const member = fc.tuple(fc.constantFrom(...keys), ws, fc.oneof(fc.constantFrom(...numbers), fc.integer().map(String), fc.double().map(String)), ws)
      .map(([k, w, v, w2]) => `${k}${w}:${w2}${v}`);
    const meta = fc.oneof(
      fc.tuple(ws, fc.array(member, { maxLength: 4 }), ws, fc.constantFrom('', '', ',', '}', ']', ' x')).map(([a, m, b, tail]) => `${a}{${m.join(',')}}${b}${tail}`),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify({ nested: v, index: 3 }, null, 1).replace(/\n/g, ' ')),
      fc.string().map((s) => `{"s":"${s.replace(/\n/g, '')}","index":2}`),
      fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.concat([Buffer.from('{"b":"'), Buffer.from(b.filter((x) => x !== 10 && x !== 0x22 && x !== 0x5c)), Buffer.from('","index":4}')]).toString('latin1')),
      fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b.filter((x) => x !== 10)).toString('latin1')),
      fc.nat(300).map((d) => `{"index":1,"deep":${'['.repeat(d)}${']'.repeat(d)}}`),
      fc.nat(300).map((d) => `{"index":1,"deep":${'['.repeat(d)}${']'.repeat(Math.max(0, d - 1))}}`),
    );
    const payload = fc.oneof(fc.constant('{}'), fc.string({ maxLength: 40 }).map((s) => s.replace(/\n/g, '')), fc.constantFrom('LLM_REQUEST_END', 'LLM_RESPONSE_END{"index":9}', 'SESSION_END'));
    const line = fc.oneof(
      fc.tuple(fc.constantFrom('LLM_REQUEST_START', 'LLM_RESPONSE_START'), payload, fc.boolean(), meta).map(([start, p, withEnd, m]) => {
        const end = start === 'LLM_REQUEST_START' ? 'LLM_REQUEST_END' : 'LLM_RESPONSE_END';
        return `${start}${p}${withEnd ? end : ''}${m}`;
      }),
      fc.constantFrom('SESSION_END', 'SESSION_END \t\r', 'SESSION_END x', ' SESSION_END', 'SESSION_EN', '', '\r', 'LLM_REQUEST_STAR'),
      fc.string({ maxLength: 30 }).map((s) => s.replace(/\n/g, '')),
    );

    it('on generated lines, meta JSON of every shape included (latin1 bytes, so any byte occurs)', () => {
      fc.assert(
        fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), fc.string({ maxLength: 5 }), (lines, partial) => {
          const content = Buffer.from(lines.join('\n') + '\n' + partial.replace(/\n/g, ''), 'latin1');
          withLog(dir, content, (fd) => {
            assert.deepEqual(scanToEnd(engine, fd), scanToEnd(tsEngine, fd));
            for (const mask of [KindMask.Request | KindMask.SessionEnd, KindMask.Response, KindMask.Malformed, ALL_KINDS]) {
              const a = engine.findLast(fd, mask);
              const b = tsEngine.findLast(fd, mask);
              assert.deepEqual(a && tupleOf(a), b && tupleOf(b));
            }
          });
        }),
        { numRuns: 300 },
      );
    });

    it('on a log larger than the pread window, in batches cut by maxRecords and maxBytes', () => {
      const lines: string[] = [];
      fc.sample(line, { numRuns: 4000, seed: 8 }).forEach((l, i) => lines.push(i % 7 === 0 ? requestLine(i, `{"p":"${'y'.repeat(i % 3000)}"}`).trimEnd() : l));
      const content = Buffer.from(lines.join('\n') + '\n', 'latin1');
      assert.ok(content.length > 512 * 1024);
      withLog(dir, content, (fd) => {
        for (const options of [undefined, { maxRecords: 1 }, { maxRecords: 333 }, { maxBytes: 1 }, { maxBytes: 70_000 }, { maxBytes: 300_000, maxRecords: 5000 }]) {
          assert.deepEqual(scanToEnd(engine, fd, 0, options), scanToEnd(tsEngine, fd, 0, options));
        }
        // Rare kinds send the backward walk past the 64 KiB tail window into the mapping.
        const masks = [ALL_KINDS, KindMask.Request, KindMask.SessionEnd, KindMask.Malformed | KindMask.Response];
        for (const before of [0, 1, 1000, 70_000, 300_000, content.length - 1, content.length, content.length + 5]) {
          for (const mask of masks) {
            const a = engine.findLast(fd, mask, before);
            const b = tsEngine.findLast(fd, mask, before);
            assert.deepEqual(a && tupleOf(a), b && tupleOf(b), `mask ${mask} before ${before}`);
          }
        }
      });
    });
  });

  it('findLast walks back past its tail window to a line far from the end', () => {
    const tail = requestLine(2, `{"p":"${'z'.repeat(1000)}"}`).repeat(300);
    withLog(dir, `SESSION_END\n${tail}`, (fd) => {
      assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.SessionEnd)!), [RecordKind.SessionEnd, -1, 0, 0, 0, 12]);
      assert.equal(engine.findLast(fd, KindMask.Response), null);
      assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.SessionEnd, 12)!), [RecordKind.SessionEnd, -1, 0, 0, 0, 12]);
      assert.equal(engine.findLast(fd, KindMask.SessionEnd, 11), null);
    });
  });

  it('a synchronous loop of many scans does not pile up memory', () => {
    withLog(dir, requestLine(1), (fd) => {
      engine.scan(fd, 0);
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 300_000; i++) engine.scan(fd, 0);
      const grown = (process.memoryUsage().rss - before) / 2 ** 20;
      assert.ok(grown < 50, `RSS grew by ${grown.toFixed(0)} MiB over 300000 scans`);
    });
  });

  describe('the record layout and the fault guard it reports', () => {
    it('exports the record layout of native/record_layout.h, equal to the TypeScript table', () => {
      assert.deepEqual(binding.layout, { stride: RECORD_LAYOUT.stride, fields: { ...RECORD_LAYOUT.fields }, kinds: { ...RecordKind } });
      assert.deepEqual(binding.layout, EXPECTED_LAYOUT);
    });

    it('reports its SIGBUS guard as installed, and ships no function beyond scan and findLast', () => {
      assert.equal(binding.faultGuard, true);
      assert.deepEqual(Object.keys(binding).sort(), ['abiVersion', 'faultGuard', 'findLast', 'layout', 'scan']);
    });

    it('the loader refuses a binary whose layout or fault guard is not what this package reads', () => {
      assert.equal(bindingProblem(binding), null);
      assert.match(bindingProblem({ scan() {} })!, /is not the rock-model-service scanner/);
      assert.match(bindingProblem({ ...binding, abiVersion: 1 })!, /speaks scanner ABI 1, this package needs 3/);
      const moved = { ...EXPECTED_LAYOUT, fields: { ...EXPECTED_LAYOUT.fields, index: 5, lineEnd: 1 } };
      assert.match(bindingProblem({ ...binding, layout: moved })!, /record layout .* differs/);
      assert.match(bindingProblem({ ...binding, layout: { ...EXPECTED_LAYOUT, stride: 7 } })!, /record layout/);
      assert.match(bindingProblem({ ...binding, faultGuard: false })!, /could not install its SIGBUS handler/);
    });
  });
});
