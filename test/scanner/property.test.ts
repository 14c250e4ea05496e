/**
 * Generated logs: every engine, scanning incrementally while the log is appended at random
 * boundaries, agrees record for record with a plain reference reader written from the reading rules;
 * and what our writer writes reads back as the same JSON value, with no raw marker in it.
 */
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compactJson, encodeRequestLine, encodeResponseLine } from '../../src/protocol/index.js';
import { openScanner } from '../../src/scanner/index.js';
import { recordAt, RecordKind, type ScanEngine } from '../../src/scanner/types.js';
import { KIND_NUMBER, readReference, type ReferenceRecord } from '../helpers/reference-reader.js';
import { enginesUnderTest, scanToEnd, tupleOf, type RecordTuple } from './log-files.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const Q = 'LLM_REQUEST_START';
const QE = 'LLM_REQUEST_END';
const R = 'LLM_RESPONSE_START';
const RE = 'LLM_RESPONSE_END';
const MARKERS = [Q, QE, R, RE, 'SESSION_END'];

const asTuple = (r: ReferenceRecord): RecordTuple => [KIND_NUMBER[r.kind], r.index, r.lineStart, r.payloadStart, r.payloadEnd, r.lineEnd];

/** Text for payloads and junk: ASCII, non-ASCII, quotes, carriage returns and marker strings, never a newline. */
const lineText = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
      fc.constantFrom(...MARKERS, 'SESSION_END ', 'LLM_RE', 'SESSION\\u005fEND', '\r', '"', '\\', 'é', '你', '🌍'),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join('').replaceAll('\n', ' '));

const meta = fc.oneof(
  fc.integer({ min: -3, max: 1_000_000 }).map((i) => `{"timestamp": 1732500000000, "index": ${i}}`),
  fc.integer().map((i) => `{"index":${i}}`),
  fc
    .tuple(
      fc.constantFrom('', ' ', '  ', '\t'),
      fc.constantFrom('0', '00', '-0', '1732500000000', '-7', '1.5'),
      fc.constantFrom('0', '00', '01', '-0', '-', '12', '-3', '123456789012345', '1234567890123456', '1.0', '1e1', '"1"'),
    )
    .map(([sp, ts, index]) => `{${sp}"timestamp"${sp}:${sp}${ts}${sp},${sp}"index":${sp}${index}${sp}}`),
  fc.constantFrom(
    '{"index": 1.5}', '{"index": "3"}', '{}', '', '[1]', 'null', '{"index": 2', ' {"index": 4} \t', '{"index": 1e1}',
    '{"index": 9007199254740993}', '{"index": -0}', '{"index": 5, "index": 6}', `{"index": 7, "x": "${QE}"}`,
  ),
);

const logLine = fc.oneof(
  fc
    .tuple(fc.boolean(), lineText, meta, fc.boolean())
    .map(([isRequest, payload, m, crlf]) => (isRequest ? `${Q}${payload}${QE}` : `${R}${payload}${RE}`) + m + (crlf ? '\r' : '')),
  fc.tuple(fc.constantFrom(Q, R), lineText).map(([start, payload]) => start + payload),
  fc
    .tuple(fc.constantFrom('SESSION_END', ' SESSION_END', 'SESSION_EN'), fc.array(fc.constantFrom(' ', '\t', '\r', 'x', '\u00a0'), { maxLength: 3 }))
    .map(([marker, rest]) => marker + rest.join('')),
  lineText,
  fc.constant(''),
);

const generatedLog = fc
  .record({ lines: fc.array(logLine, { maxLength: 30 }), tail: lineText, cuts: fc.array(fc.nat(), { maxLength: 6 }) })
  .map(({ lines, tail, cuts }) => {
    const bytes = Buffer.from(lines.map((l) => l + '\n').join('') + tail, 'utf8');
    return { bytes, cuts: [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b) };
  });

/** Puts one of `markers` in the middle of every string (keys included) of a JSON value. */
function injectMarkers(value: unknown, markers: string[]): unknown {
  let n = 0;
  const inject = (s: string): string => {
    const at = Math.floor(s.length / 2);
    return s.slice(0, at) + markers[n++ % markers.length] + s.slice(at);
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return inject(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [inject(k), walk(x)]));
    return v;
  };
  return walk(value);
}

describe('scanner properties (fast-check)', () => {
  const dir = makeTempDir('property');
  after(() => removeDir(dir));
  const engines = enginesUnderTest();

  it('every engine, scanning while the log grows at random boundaries, agrees with the reference reader record for record', function () {
    this.timeout(120_000);
    const path = join(dir, 'generated.log');
    fc.assert(
      fc.property(generatedLog, fc.constantFrom(undefined, 1, 2, 5), ({ bytes, cuts }, maxRecords) => {
        writeFileSync(path, '');
        const fd = openSync(path, 'r');
        try {
          const state = engines.map(() => ({ offset: 0, records: [] as RecordTuple[] }));
          let written = 0;
          for (const cut of [...cuts, bytes.length]) {
            appendFileSync(path, bytes.subarray(written, cut));
            written = cut;
            const { completeEnd } = readReference(bytes.subarray(0, written));
            engines.forEach(({ engine }, i) => {
              const s = state[i]!;
              const { records, nextOffset } = scanToEnd(engine, fd, s.offset, { maxRecords });
              s.records.push(...records);
              s.offset = nextOffset;
              assert.equal(nextOffset, completeEnd, `${engines[i]!.name}: offset after ${written} bytes`);
            });
          }
          const want = readReference(bytes).records.map(asTuple);
          engines.forEach(({ name }, i) => assert.deepEqual(state[i]!.records, want, name));
        } finally {
          closeSync(fd);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('findLast agrees with the reference reader for every kind mask and any before', function () {
    this.timeout(120_000);
    const path = join(dir, 'find-last.log');
    fc.assert(
      fc.property(
        generatedLog,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 31 }), fc.option(fc.nat(), { nil: undefined })), { minLength: 1, maxLength: 8 }),
        ({ bytes }, queries) => {
          writeFileSync(path, bytes);
          const { records } = readReference(bytes);
          const fd = openSync(path, 'r');
          try {
            for (const [bits, rawBefore] of queries) {
              const mask = bits << 1;
              const before = rawBefore === undefined ? undefined : rawBefore % (bytes.length + 2);
              const limit = before ?? bytes.length;
              const match = records.filter((r) => r.lineEnd <= limit && (mask & (1 << KIND_NUMBER[r.kind])) !== 0).at(-1);
              for (const { name, engine } of engines) {
                const got = engine.findLast(fd, mask, before);
                assert.deepEqual(got === null ? null : tupleOf(got), match ? asTuple(match) : null, `${name}: mask ${mask}, before ${before}`);
              }
            }
          } finally {
            closeSync(fd);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any JSON value written by our writer reads back as the same value, with no raw marker in the payload', function () {
    this.timeout(120_000);
    const path = join(dir, 'round-trip.log');
    const scanners = engines.map(({ engine }) => openScanner(path, { engine: engine as ScanEngine }));
    after(() => scanners.forEach((s) => s.close()));
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.array(fc.constantFrom(...MARKERS), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -1000, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(undefined, 2, '\t'),
        fc.boolean(),
        (value, markers, index, indent, isRequest) => {
          const message = { messages: [{ role: 'user', content: `say ${markers.join(' and ')}` }], value: injectMarkers(value, markers) };
          const text = JSON.stringify(message, null, indent);
          const compact = compactJson(text);
          const line = (isRequest ? encodeRequestLine : encodeResponseLine)(compact, index);
          writeFileSync(path, line);
          const reference = readReference(line).records;
          assert.equal(reference.length, 1);
          assert.equal(reference[0]!.kind, isRequest ? 'request' : 'response');
          for (const scanner of scanners) {
            scanner.reopen();
            const result = scanner.scan(0);
            assert.equal(result.count, 1);
            const record = recordAt(result, 0);
            assert.deepEqual(tupleOf(record), asTuple(reference[0]!));
            assert.equal(record.kind, isRequest ? RecordKind.Request : RecordKind.Response);
            assert.equal(record.index, index);
            const payload = scanner.readPayloadText(record);
            assert.equal(payload, compact);
            assert.deepEqual(JSON.parse(payload), JSON.parse(text));
            for (const marker of MARKERS) assert.ok(!payload.includes(marker), `raw ${marker} in ${payload}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
