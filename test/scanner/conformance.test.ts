/**
 * The log's reading rules as a table, run against every engine that loads here (and the
 * TypeScript engine with tiny chunks): each case is a log and the records it must give.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openScanner } from '../../src/scanner/index.js';
import { TS_CHUNK_BYTES } from '../../src/scanner/ts-engine.js';
import { KindMask, RecordKind, recordAt, type LogRecord, type ScanEngine } from '../../src/scanner/types.js';
import { bytesRead, enginesUnderTest, scanToEnd, tupleOf, withLog, type RecordTuple } from './log-files.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

type Expected =
  | { kind: 'request' | 'response'; index: number; payload: string }
  | { kind: 'malformed'; start: 'request' | 'response'; payload: string }
  | { kind: 'session-end' | 'unknown' };

const req = (index: number, payload: string): Expected => ({ kind: 'request', index, payload });
const res = (index: number, payload: string): Expected => ({ kind: 'response', index, payload });
const bad = (start: 'request' | 'response', payload: string): Expected => ({ kind: 'malformed', start, payload });
const end: Expected = { kind: 'session-end' };
const junk: Expected = { kind: 'unknown' };

const START_LENGTH = { request: 'LLM_REQUEST_START'.length, response: 'LLM_RESPONSE_START'.length };
const KIND = { request: RecordKind.Request, response: RecordKind.Response, malformed: RecordKind.Malformed, 'session-end': RecordKind.SessionEnd, unknown: RecordKind.Unknown };

/** The records `content` must give, one expectation per complete line, offsets computed from the bytes. */
function expectedRecords(content: Buffer, expected: Expected[]): RecordTuple[] {
  const out: RecordTuple[] = [];
  let lineStart = 0;
  for (const e of expected) {
    const nl = content.indexOf(10, lineStart);
    assert.ok(nl >= 0, 'the case lists more records than the log has lines');
    const lineEnd = nl + 1;
    if (!('payload' in e)) {
      out.push([KIND[e.kind], -1, lineStart, lineStart, lineStart, lineEnd]);
    } else {
      const payloadStart = lineStart + START_LENGTH['start' in e ? e.start : e.kind];
      const payloadEnd = payloadStart + Buffer.byteLength(e.payload);
      out.push([KIND[e.kind], 'index' in e ? e.index : -1, lineStart, payloadStart, payloadEnd, lineEnd]);
    }
    lineStart = lineEnd;
  }
  return out;
}

const Q = 'LLM_REQUEST_START';
const QE = 'LLM_REQUEST_END';
const R = 'LLM_RESPONSE_START';
const RE = 'LLM_RESPONSE_END';

interface Case {
  name: string;
  log: string;
  records: Expected[];
}

const cases: Case[] = [
  {
    name: 'requests, responses and a session end written with Python separators',
    log: `${Q}{"a": 1}${QE}{"timestamp": 1732500000000, "index": 1}\n${R}{"b": [1, 2]}${RE}{"timestamp": 1732500000001, "index": 1}\nSESSION_END\n`,
    records: [req(1, '{"a": 1}'), res(1, '{"b": [1, 2]}'), end],
  },
  {
    name: 'CRLF line endings: the carriage return is meta whitespace, or blank after SESSION_END, or part of an unknown line',
    log: `${Q}{}${QE}{"index": 4}\r\n${R}{}${RE}{"index": 4}\r\nhello\r\nSESSION_END\r\n`,
    records: [req(4, '{}'), res(4, '{}'), junk, end],
  },
  {
    name: 'unescaped end markers inside a payload: the payload runs to the last end marker on the line',
    log: `${Q}{"c":"say ${QE}{\\"index\\": 9} now"}${QE}{"index": 2}\n${R}{"c":"${RE}${RE}"}${RE}{"index": 2}\n`,
    records: [req(2, `{"c":"say ${QE}{\\"index\\": 9} now"}`), res(2, `{"c":"${RE}${RE}"}`)],
  },
  {
    name: 'escaped markers and other markers inside a payload change nothing',
    log: `${Q}{"c":"SESSION\\u005fEND LLM\\u005fREQUEST_END ${RE} ${R} ${Q}"}${QE}{"index": 3}\n`,
    records: [req(3, `{"c":"SESSION\\u005fEND LLM\\u005fREQUEST_END ${RE} ${R} ${Q}"}`)],
  },
  {
    name: 'SESSION_END inside a request payload is a request, not a session end',
    log: `${Q}{"content":"SESSION_END"}${QE}{"index": 5}\n${Q}SESSION_END${QE}{"index": 6}\n`,
    records: [req(5, '{"content":"SESSION_END"}'), req(6, 'SESSION_END')],
  },
  {
    name: 'SESSION_END followed by spaces, tabs or carriage returns is a session end; anything else is unknown',
    log: 'SESSION_END   \nSESSION_END\t \r\nSESSION_END\r\r\nSESSION_ENDX\n SESSION_END\nSESSION_END.\nSESSION_EN\nsession_end\nSESSION_END \u00a0\n',
    records: [end, end, end, junk, junk, junk, junk, junk, junk],
  },
  {
    name: 'empty lines and lines with no marker are unknown',
    log: `\n\n${Q.slice(0, -1)}{}${QE}{"index":1}\nhello world\n \n${QE}{"index":1}\n`,
    records: [junk, junk, junk, junk, junk, junk],
  },
  {
    name: 'meta that is not JSON, not an object, or has no index makes the line malformed',
    log:
      `${Q}{}${QE}{"index": 1\n${Q}{}${QE}[1]\n${Q}{}${QE}"index"\n${Q}{}${QE}null\n${Q}{}${QE}{}\n` +
      `${Q}{}${QE}\n${Q}{}${QE}{"index":1}x\n${Q}{}${QE}{"a": {"index": 1}}\n${Q}{}${QE}{'index': 1}\n` +
      `${Q}{}${QE}{"index": 01}\n${Q}{}${QE}{"timestamp": 00, "index": 1}\n${Q}{}${QE}{"index": -}\n${Q}{}${QE}{"timestamp": 1 "index": 1}\n`,
    records: Array.from({ length: 13 }, () => bad('request', '{}')),
  },
  {
    name: 'an index that is not an integer number within 2^53-1 makes the line malformed',
    log:
      `${R}{}${RE}{"index": "1"}\n${R}{}${RE}{"index": 1.5}\n${R}{}${RE}{"index": 9007199254740992}\n` +
      `${R}{}${RE}{"index": -9007199254740992}\n${R}{}${RE}{"index": 1e300}\n${R}{}${RE}{"index": true}\n` +
      `${R}{}${RE}{"index": null}\n${R}{}${RE}{"index": [1]}\n${R}{}${RE}{"index": NaN}\n`,
    records: Array.from({ length: 9 }, () => bad('response', '{}')),
  },
  {
    name: 'integer-valued indexes in any JSON spelling are accepted, -0 as 0',
    log:
      `${R}{}${RE}{"index": 9007199254740991}\n${R}{}${RE}{"index": -9007199254740991}\n${R}{}${RE}{"index": 1.0}\n` +
      `${R}{}${RE}{"index": 1e2}\n${R}{}${RE}{"index": -0}\n${R}{}${RE} \t{"index" : 7 }\t \n${R}{}${RE}{"timestamp": 1, "x": {"index": "no"}, "index": 8}\n` +
      `${R}{}${RE}{"timestamp":-5,"index":999999999999999}\n${R}{}${RE}{ "timestamp" :0 ,  "index":  -12 }\n`,
    records: [res(9007199254740991, '{}'), res(-9007199254740991, '{}'), res(1, '{}'), res(100, '{}'), res(0, '{}'), res(7, '{}'), res(8, '{}'), res(999999999999999, '{}'), res(-12, '{}')],
  },
  {
    name: 'a duplicate index key counts the last one, as JSON.parse does',
    log: `${Q}{}${QE}{"index": 1, "index": 2}\n${Q}{}${QE}{"index": "x", "index": 3}\n${Q}{}${QE}{"index": 3, "index": "x"}\n`,
    records: [req(2, '{}'), req(3, '{}'), bad('request', '{}')],
  },
  {
    name: 'a missing end marker makes the line malformed, its payload running to the end of the line',
    log: `${Q}{"a":1}\n${Q}{"a":1}\r\n${R}{}${QE}{"index": 1}\n${Q}\n${Q}${QE}{"index": 5}\n`,
    records: [bad('request', '{"a":1}'), bad('request', '{"a":1}\r'), bad('response', `{}${QE}{"index": 1}`), bad('request', ''), req(5, '')],
  },
  {
    name: 'non-ASCII payloads and meta are measured in bytes',
    log: `${Q}{"m":"Grüße 你好 🌍"}${QE}{"ü": "é", "index": 11}\n${R}{"m":"✓"}${RE}{"index": 11, "note": "日本"}\n\u00e9\u00e9\n`,
    records: [req(11, '{"m":"Grüße 你好 🌍"}'), res(11, '{"m":"✓"}'), junk],
  },
  {
    name: 'an empty file has no records',
    log: '',
    records: [],
  },
  {
    name: 'bytes after the last newline are a line still being written',
    log: `${Q}{}${QE}{"index": 1}\n${R}{}${RE}{"ind`,
    records: [req(1, '{}')],
  },
];

/** A scan's records as tuples. */
function scanTuples(result: Pick<import('../../src/scanner/types.js').ScanResult, 'records' | 'count'>): RecordTuple[] {
  return Array.from({ length: result.count }, (_, i) => tupleOf(recordAt(result, i)));
}

/** What the record at file offsets `[payloadStart, payloadEnd)` holds. */
function payloadOf(content: Buffer, r: LogRecord): string {
  return content.subarray(r.payloadStart, r.payloadEnd).toString('utf8');
}

describe('scanner conformance (the reading rules)', () => {
  const dir = makeTempDir('conformance');
  after(() => removeDir(dir));

  for (const { name: engineName, engine, smallChunks } of enginesUnderTest()) {
    describe(`${engineName} engine`, () => {
      for (const c of cases) {
        it(c.name, () => {
          const content = Buffer.from(c.log, 'utf8');
          withLog(dir, content, (fd) => {
            const want = expectedRecords(content, c.records);
            const result = engine.scan(fd, 0);
            const got = Array.from({ length: result.count }, (_, i) => tupleOf(recordAt(result, i)));
            assert.deepEqual(got, want);
            assert.equal(result.nextOffset, want.length ? want[want.length - 1]![5] : 0);
            assert.equal(result.size, content.length);
            assert.equal(result.searchedTo, content.length, 'every byte after nextOffset was searched for a newline');
          });
        });
      }

      it('a partial last line keeps the offset at its start and completes when the rest arrives', () => {
        const first = `${Q}{"a":1}${QE}{"index": 1}\n`;
        const second = `${R}{"b":2}${RE}{"index": 1}\n`;
        withLog(dir, first + second.slice(0, 10), (fd, path) => {
          let r = engine.scan(fd, 0);
          assert.equal(r.count, 1);
          assert.equal(r.nextOffset, first.length);
          r = engine.scan(fd, r.nextOffset);
          assert.equal(r.count, 0);
          assert.equal(r.nextOffset, first.length);
          appendFileSync(path, second.slice(10, -1));
          assert.equal(engine.scan(fd, first.length).count, 0, 'no newline yet');
          appendFileSync(path, '\n');
          r = engine.scan(fd, first.length);
          assert.equal(r.count, 1);
          assert.deepEqual(tupleOf(recordAt(r, 0)), [RecordKind.Response, 1, first.length, first.length + 18, first.length + 25, first.length + second.length]);
          assert.equal(r.nextOffset, first.length + second.length);
        });
      });

      it('an offset past the end of a shrunk file gives no records, keeps the offset and reports the smaller size', () => {
        withLog(dir, 'SESSION_END\n', (fd) => {
          const r = engine.scan(fd, 100);
          assert.equal(r.count, 0);
          assert.equal(r.nextOffset, 100);
          assert.equal(r.size, 12);
        });
      });

      it('maxRecords splits a scan into batches that together give every line once', () => {
        const content = Array.from({ length: 10 }, (_, i) => `${Q}{"i":${i}}${QE}{"index": ${i + 1}}\n`).join('');
        withLog(dir, content, (fd) => {
          const counts: number[] = [];
          let offset = 0;
          const indexes: number[] = [];
          for (;;) {
            const r = engine.scan(fd, offset, { maxRecords: 3 });
            if (r.count === 0) break;
            counts.push(r.count);
            for (let i = 0; i < r.count; i++) indexes.push(recordAt(r, i).index);
            assert.equal(r.nextOffset, recordAt(r, r.count - 1).lineEnd);
            offset = r.nextOffset;
          }
          assert.deepEqual(counts, [3, 3, 3, 1]);
          assert.deepEqual(indexes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
          assert.equal(offset, content.length);
        });
      });

      it('maxBytes stops before a line that starts at or after offset + maxBytes, and always takes one line', () => {
        const line = 'x'.repeat(99) + '\n';
        withLog(dir, line.repeat(6), (fd) => {
          assert.equal(engine.scan(fd, 0, { maxBytes: 250 }).count, 3);
          assert.equal(engine.scan(fd, 0, { maxBytes: 200 }).count, 2);
          const one = engine.scan(fd, 100, { maxBytes: 1 });
          assert.equal(one.count, 1);
          assert.equal(one.nextOffset, 200);
          assert.deepEqual(scanToEnd(engine, fd, 0, { maxBytes: 150 }).records.length, 6);
        });
      });

      it('rejects offsets and limits that are not non-negative integers with RMS_INVALID_ARGUMENT', () => {
        withLog(dir, '', (fd) => {
          for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
            assert.throws(() => engine.scan(fd, bad), { code: 'RMS_INVALID_ARGUMENT' });
          }
          assert.throws(() => engine.scan(fd, 0, { maxRecords: 0 }), { code: 'RMS_INVALID_ARGUMENT' });
          assert.throws(() => engine.findLast(fd, 1 << 9), { code: 'RMS_INVALID_ARGUMENT' });
        });
      });

      describe('findLast', () => {
        const log =
          `${Q}{"n":1}${QE}{"index": 1}\n${R}{"n":1}${RE}{"index": 1}\n${Q}{"n":2}${QE}{"index": 2}\n` +
          `junk\n${R}{"n":2}${RE}{"index": 2}\n${Q}{}${QE}{"index": x}\nSESSION_END  \n${R}{"n":3}${RE}{"ind`;
        const content = Buffer.from(log);
        const lineStarts = [0, ...Array.from(log.matchAll(/\n/g), (m) => m.index! + 1)];

        it('finds the latest request-or-session-end line, the latest response, and the latest malformed line', () => {
          withLog(dir, content, (fd) => {
            const last = engine.findLast(fd, KindMask.Request | KindMask.SessionEnd)!;
            assert.equal(last.kind, RecordKind.SessionEnd);
            assert.equal(last.lineStart, lineStarts[6]);
            const response = engine.findLast(fd, KindMask.Response)!;
            assert.equal(response.index, 2);
            assert.equal(payloadOf(content, response), '{"n":2}');
            assert.equal(response.lineEnd, lineStarts[5]);
            assert.equal(engine.findLast(fd, KindMask.Malformed)!.lineStart, lineStarts[5]);
            assert.equal(engine.findLast(fd, KindMask.Unknown)!.lineStart, lineStarts[3]);
          });
        });

        it('with before, only lines that end at or before it count', () => {
          withLog(dir, content, (fd) => {
            assert.equal(engine.findLast(fd, KindMask.Request, lineStarts[3])!.index, 2);
            assert.equal(engine.findLast(fd, KindMask.Request, lineStarts[3]! - 1)!.index, 1, 'a line cut by before does not count');
            assert.equal(engine.findLast(fd, KindMask.Request, lineStarts[2])!.index, 1);
            assert.equal(engine.findLast(fd, KindMask.Request, lineStarts[1])!.index, 1);
            assert.equal(engine.findLast(fd, KindMask.Request, lineStarts[1]! - 1), null);
            assert.equal(engine.findLast(fd, KindMask.Response, 0), null);
            assert.equal(engine.findLast(fd, KindMask.SessionEnd, 10 ** 9)!.lineStart, lineStarts[6], 'before past the end means the end');
          });
        });

        it('returns null in an empty file and when no line matches', () => {
          withLog(dir, '', (fd) => assert.equal(engine.findLast(fd, KindMask.Request | KindMask.SessionEnd), null));
          withLog(dir, 'junk\nmore junk\npartial SESSION_END', (fd) => assert.equal(engine.findLast(fd, KindMask.SessionEnd | KindMask.Request), null));
          withLog(dir, 'SESSION_END', (fd) => assert.equal(engine.findLast(fd, KindMask.SessionEnd), null, 'a partial line is not a line'));
        });
      });

      it('a line of 50 MiB is found with exact offsets, without holding it in memory', function () {
        if (smallChunks) this.skip();
        this.timeout(60_000);
        const payloadBytes = 50 * 1024 * 1024;
        const path = join(dir, `long-${engineName.replace(/\W/g, '')}`);
        const head = `${R}{"x":1}${RE}{"index": 1}\n${Q}{"s":"`;
        const tail = `"}${QE}{"timestamp": 1, "index": 2}\nSESSION_END\n`;
        const fd0 = openSync(path, 'w');
        writeSync(fd0, head);
        const block = Buffer.alloc(1024 * 1024, 'a');
        for (let i = 0; i < payloadBytes / block.length; i++) writeSync(fd0, block);
        writeSync(fd0, tail);
        closeSync(fd0);
        const fd = openSync(path, 'r');
        try {
          const before = process.memoryUsage();
          const r = engine.scan(fd, 0);
          const last = engine.findLast(fd, KindMask.Request);
          const after = process.memoryUsage();
          const lineStart = head.indexOf('\n') + 1;
          const payloadEnd = head.length + payloadBytes + 2;
          assert.equal(r.count, 3);
          assert.deepEqual(tupleOf(recordAt(r, 1)), [RecordKind.Request, 2, lineStart, lineStart + Q.length, payloadEnd, payloadEnd + tail.indexOf('\n') - 1]);
          assert.equal(recordAt(r, 2).kind, RecordKind.SessionEnd);
          assert.deepEqual(tupleOf(last!), tupleOf(recordAt(r, 1)));
          const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
          assert.ok(grown < 16 * 1024 * 1024, `memory grew by ${grown} bytes while scanning a 50 MiB line`);
        } finally {
          closeSync(fd);
        }
      });

      it('long blank SESSION_END lines and long unknown lines keep their kinds', () => {
        const blanks = 'SESSION_END' + ' \t\r'.repeat(100_000) + '\n';
        const notBlank = 'SESSION_END' + ' '.repeat(150_000) + 'x' + ' '.repeat(150_000) + '\n';
        const unknown = 'y'.repeat(300_000) + '\n';
        withLog(dir, blanks + notBlank + unknown, (fd) => {
          const r = engine.scan(fd, 0);
          assert.deepEqual(
            Array.from({ length: r.count }, (_, i) => recordAt(r, i).kind),
            [RecordKind.SessionEnd, RecordKind.Unknown, RecordKind.Unknown],
          );
          assert.equal(engine.findLast(fd, KindMask.SessionEnd)!.lineEnd, blanks.length);
        });
      });

      describe('lines split at every byte position of a chunk or page boundary', () => {
        const target = Buffer.from(
          `${Q}{"c":"${QE} SESSION_END"}${QE}{"timestamp": 1, "index": 7}\n` + `SESSION_END \r\n` + `${R}{"ok":"ü"}${RE}{"index": 7}\n`,
        );
        const targetRecords = (padding: number): RecordTuple[] =>
          expectedRecords(target, [req(7, `{"c":"${QE} SESSION_END"}`), end, res(7, '{"ok":"ü"}')]).map(
            (t) => t.map((v, i) => (i < 2 ? v : v + padding)) as RecordTuple,
          );
        // 4096: the native engine's pages; TS_CHUNK_BYTES: the TypeScript engine's reads.
        for (const boundary of smallChunks ? [4096] : [4096, TS_CHUNK_BYTES]) {
          it(`every split of the lines at a ${boundary}-byte boundary gives the same records`, function () {
            this.timeout(60_000);
            const path = join(dir, `split-${engineName.replace(/\W/g, '')}-${boundary}`);
            const pad = Buffer.alloc(boundary, 'p');
            for (let k = 0; k <= target.length; k++) {
              const padding = boundary - k;
              pad[padding - 1] = 10;
              writeFileSync(path, Buffer.concat([pad.subarray(0, padding), target]));
              pad[padding - 1] = 0x70;
              const fd = openSync(path, 'r');
              try {
                const { records, nextOffset } = scanToEnd(engine, fd, 0);
                assert.deepEqual(records.slice(1), targetRecords(padding), `split at byte ${k} of the lines`);
                assert.equal(nextOffset, padding + target.length);
                assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.Request | KindMask.SessionEnd)!), targetRecords(padding)[1]);
                assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.Request)!), targetRecords(padding)[0]);
                assert.deepEqual(tupleOf(engine.findLast(fd, KindMask.Response)!), targetRecords(padding)[2]);
              } finally {
                closeSync(fd);
              }
            }
          });
        }
      });

      it('a log truncated and rewritten by another process during scans never breaks a scan', async function () {
        if (smallChunks) this.skip();
        this.timeout(30_000);
        const path = join(dir, `shrinking-${engineName.replace(/\W/g, '')}`);
        const content = Array.from({ length: 2000 }, (_, i) => `${Q}{"c":"${'z'.repeat(i % 3000)}"}${QE}{"index": ${i + 1}}\n`).join('');
        writeFileSync(path, content);
        const child = spawn(process.execPath, [
          '-e',
          `const fs = require('fs'); const text = fs.readFileSync(${JSON.stringify(path)}); const end = Date.now() + 1500;
           while (Date.now() < end) { fs.truncateSync(${JSON.stringify(path)}, Math.floor(Math.random() * text.length));
             fs.writeFileSync(${JSON.stringify(path)}, text); }`,
        ]);
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const fd = openSync(path, 'r');
        let scans = 0;
        try {
          for (const stop = Date.now() + 1000; Date.now() < stop; scans++) {
            const offset = scans % 3 === 0 ? 0 : Math.floor(Math.random() * content.length);
            const r = engine.scan(fd, offset, { maxRecords: 500 });
            assert.ok(r.nextOffset >= offset);
            for (let i = 0; i < r.count; i++) {
              const rec = recordAt(r, i);
              assert.ok(rec.kind >= RecordKind.Request && rec.kind <= RecordKind.Malformed);
              assert.ok(rec.lineStart >= offset && rec.lineStart < rec.lineEnd && rec.lineEnd <= r.nextOffset);
            }
            engine.findLast(fd, KindMask.Request | KindMask.SessionEnd);
          }
        } finally {
          closeSync(fd);
          await exited;
        }
        assert.ok(scans > 10, `only ${scans} scans ran`);
      });

      it('reads the log written by the reference Python implementation', () => {
        const path = new URL('../fixtures/reference-python.log', import.meta.url);
        const fd = openSync(path, 'r');
        try {
          const r = engine.scan(fd, 0);
          const records = Array.from({ length: r.count }, (_, i) => recordAt(r, i));
          assert.deepEqual(
            records.map((x) => [x.kind, x.index]),
            [[RecordKind.Request, 1], [RecordKind.Response, 1], [RecordKind.Request, 2], [RecordKind.SessionEnd, -1]],
          );
          const scanner = openScanner(path.pathname, { engine: engine as ScanEngine });
          try {
            const first = JSON.parse(scanner.readPayloadText(records[0]!));
            assert.equal(first.messages[0].content, 'Grüße aus Köln, 你好 🌍');
            assert.equal(JSON.parse(scanner.readPayloadText(records[1]!)).choices[0].message.content, 'Ça va? ünïcödé ✓');
            assert.equal(JSON.parse(scanner.readPayloadText(records[2]!)).temperature, 0.7);
          } finally {
            scanner.close();
          }
        } finally {
          closeSync(fd);
        }
      });

      describe('a partial last line is searched once, not from its start on every scan', () => {
        const first = `${Q}{"a":1}${QE}{"index": 1}\n`;

        it('searchedTo marks how far it was searched, and searchFrom resumes there', () => {
          const parts = [`${R}{"b":`, '"grows"}', `${RE}{"index": 1}\nSESSION_END\n`];
          const at = (n: number): number => first.length + parts.slice(0, n).join('').length;
          withLog(dir, first + parts[0], (fd, path) => {
            let r = engine.scan(fd, 0);
            assert.deepEqual([r.count, r.nextOffset, r.searchedTo], [1, first.length, at(1)]);
            appendFileSync(path, parts[1]!);
            r = engine.scan(fd, first.length, { searchFrom: r.searchedTo });
            assert.deepEqual([r.count, r.nextOffset, r.searchedTo, r.size], [0, first.length, at(2), at(2)]);
            r = engine.scan(fd, first.length, { searchFrom: r.searchedTo });
            assert.deepEqual([r.count, r.nextOffset, r.searchedTo], [0, first.length, at(2)], 'nothing new: nothing to search');
            appendFileSync(path, parts[2]!);
            const resumed = engine.scan(fd, first.length, { searchFrom: r.searchedTo });
            const fresh = engine.scan(fd, first.length);
            assert.deepEqual(scanTuples(resumed), scanTuples(fresh));
            const sessionEnd = at(3) - 'SESSION_END\n'.length;
            assert.deepEqual(scanTuples(resumed), [
              [RecordKind.Response, 1, first.length, first.length + R.length, at(2), sessionEnd],
              [RecordKind.SessionEnd, -1, sessionEnd, sessionEnd, sessionEnd, at(3)],
            ]);
            assert.deepEqual([resumed.nextOffset, resumed.searchedTo], [at(3), at(3)]);
          });
        });

        it('bytes before searchFrom are taken as searched: a newline written into them is not seen', () => {
          withLog(dir, first + 'x'.repeat(100), (fd, path) => {
            const r = engine.scan(fd, 0);
            const fd2 = openSync(path, 'r+');
            writeSync(fd2, '\n', first.length + 50);
            closeSync(fd2);
            assert.equal(engine.scan(fd, first.length, { searchFrom: r.searchedTo }).count, 0);
            assert.equal(engine.scan(fd, first.length).count, 1, 'a scan without searchFrom sees it');
          });
        });

        it('searchFrom is ignored at or before the offset and past the end of a file that shrank', () => {
          withLog(dir, `${first}SESSION_END\n`, (fd) => {
            const want = scanTuples(engine.scan(fd, 0));
            for (const searchFrom of [0, first.length, first.length + 12 + 1, 10 ** 9]) {
              const r = engine.scan(fd, first.length, { searchFrom });
              assert.deepEqual(scanTuples(r), want.slice(1), `searchFrom ${searchFrom}`);
              assert.equal(r.searchedTo, first.length + 12);
            }
          });
        });

        it('a scan cut short by maxRecords or maxBytes searched nothing past nextOffset', () => {
          withLog(dir, `${first}${first}${first}partial`, (fd) => {
            const byRecords = engine.scan(fd, 0, { maxRecords: 2 });
            assert.deepEqual([byRecords.nextOffset, byRecords.searchedTo], [2 * first.length, 2 * first.length]);
            const byBytes = engine.scan(fd, 0, { maxBytes: 1 });
            assert.deepEqual([byBytes.nextOffset, byBytes.searchedTo], [first.length, first.length]);
          });
        });

        it('a line growing by 64 KiB a scan costs each scan its new bytes, not its length so far', function () {
          if (smallChunks) this.skip();
          withLog(dir, first + `${R}{"long":"${'y'.repeat(8 << 20)}`, (fd, path) => {
            const grow = Buffer.alloc(64 << 10, 'z');
            const wakes = 24;
            const measure = (resume: boolean): number | null => {
              let last = engine.scan(fd, 0);
              return bytesRead(() => {
                for (let i = 0; i < wakes; i++) {
                  appendFileSync(path, grow);
                  last = engine.scan(fd, first.length, resume ? { searchFrom: last.searchedTo } : {});
                  assert.equal(last.count, 0);
                }
              });
            };
            const resumed = measure(true);
            if (resumed === null) this.skip();
            const appended = wakes * grow.length;
            assert.ok(resumed! < 2 * appended + (1 << 20), `${resumed} bytes read to search ${appended} new bytes`);
            // The measure sees rescans: every byte of pread, but only one page fault per 16
            // pages of a mapping (the kernel maps 64 KiB around each fault), hence the factor 2.
            const rescanned = measure(false)!;
            assert.ok(rescanned > 2 * resumed!, `without searchFrom: ${rescanned} bytes read, with it ${resumed}`);
          });
        });
      });

      it('findLast past a 4 GiB sparse tail with no newline finds the line before it', function () {
        this.timeout(120_000);
        if (smallChunks) this.skip();
        const path = join(dir, `sparse-tail-${engineName.replace(/\W/g, '')}`);
        const line = `${Q}{}${QE}{"index": 3}\n`;
        writeFileSync(path, line);
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, 4 * 2 ** 30);
          let found: LogRecord | null = null;
          const read = bytesRead(() => {
            found = engine.findLast(fd, KindMask.Request | KindMask.SessionEnd);
          });
          assert.deepEqual(tupleOf(found!), [RecordKind.Request, 3, 0, Q.length, Q.length + 2, line.length]);
          // Node has no lseek, so the TypeScript engine reads the hole's zeros (0.17 s per GiB
          // here); the native engine skips holes with SEEK_DATA and reads a few KiB.
          if (engineName === 'native' && read !== null) assert.ok(read < 4 << 20, `native read ${read} bytes`);
        } finally {
          closeSync(fd);
        }
      });

      it('a log that does not exist yet scans as empty through LogScanner, then is read once it appears', () => {
        const path = join(dir, `later-${engineName.replace(/\W/g, '')}`);
        const scanner = openScanner(path, { engine });
        try {
          const empty = scanner.scan(0);
          assert.deepEqual([empty.count, empty.nextOffset, empty.size], [0, 0, 0]);
          assert.equal(scanner.findLast(KindMask.Request), null);
          writeFileSync(path, 'SESSION_END\n');
          const r = scanner.scan(0);
          assert.deepEqual([r.count, recordAt(r, 0).kind, r.nextOffset], [1, RecordKind.SessionEnd, 12]);
        } finally {
          scanner.close();
        }
      });
    });
  }
});
