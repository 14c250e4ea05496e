/** LogScanner: the file handling around an engine (lazy open, replacement, reopen, payload reads), for every engine. */
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableEngines, getScanEngine, KindMask, openScanner, recordAt, RecordKind } from '../../src/scanner/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const request = (index: number, payload: string): string => `LLM_REQUEST_START${payload}LLM_REQUEST_END{"timestamp": 1, "index": ${index}}\n`;

describe('LogScanner', () => {
  const dir = makeTempDir('log-scanner');
  after(() => removeDir(dir));
  let n = 0;
  const freshPath = (): string => join(dir, `log-${n++}`);

  it('uses the engine getScanEngine() picks when none is given, and reports its kind', () => {
    const scanner = openScanner(freshPath());
    try {
      assert.equal(scanner.kind, getScanEngine().kind);
    } finally {
      scanner.close();
    }
  });

  for (const engine of availableEngines()) {
    describe(`with the ${engine.kind} engine`, () => {
      it('a missing file scans as empty, has no identity, no latest line and is not "replaced"', () => {
        const scanner = openScanner(freshPath(), { engine });
        try {
          assert.equal(scanner.kind, engine.kind);
          const r = scanner.scan(7);
          assert.deepEqual([r.count, r.nextOffset, r.size], [0, 7, 0]);
          assert.equal(scanner.identity(), null);
          assert.equal(scanner.findLast(KindMask.Request), null);
          assert.equal(scanner.isReplaced(), false);
          assert.throws(() => scanner.scan(-1), { code: 'RMS_INVALID_ARGUMENT' });
          assert.throws(() => scanner.readPayload({ kind: RecordKind.Request, index: 1, lineStart: 0, payloadStart: 17, payloadEnd: 19, lineEnd: 40 }), {
            code: 'RMS_LOG_NOT_FOUND',
          });
        } finally {
          scanner.close();
        }
      });

      it('opens the file lazily once it exists, and keeps reading the same descriptor as it grows', () => {
        const path = freshPath();
        const scanner = openScanner(path, { engine });
        try {
          assert.equal(scanner.scan(0).count, 0);
          writeFileSync(path, request(1, '{"a":1}'));
          const first = scanner.scan(0);
          assert.equal(first.count, 1);
          const identity = scanner.identity()!;
          assert.equal(identity.size, first.size);
          appendFileSync(path, request(2, '{"b":2}'));
          const second = scanner.scan(first.nextOffset);
          assert.equal(recordAt(second, 0).index, 2);
          assert.equal(scanner.identity()!.ino, identity.ino);
          assert.equal(scanner.identity()!.size, second.size);
        } finally {
          scanner.close();
        }
      });

      it('detects a replaced or deleted file, and reopen() reads the new one', () => {
        const path = freshPath();
        writeFileSync(path, request(1, '{"old":true}'));
        const scanner = openScanner(path, { engine });
        try {
          const old = scanner.identity()!;
          assert.equal(scanner.isReplaced(), false);
          writeFileSync(`${path}.new`, request(9, '{"new":true}') + 'SESSION_END\n');
          renameSync(`${path}.new`, path);
          assert.equal(scanner.isReplaced(), true);
          assert.equal(recordAt(scanner.scan(0), 0).index, 1, 'the old descriptor still reads the old file');
          scanner.reopen();
          assert.equal(scanner.isReplaced(), false);
          assert.notEqual(scanner.identity()!.ino, old.ino);
          const r = scanner.scan(0);
          assert.deepEqual([recordAt(r, 0).index, recordAt(r, 1).kind], [9, RecordKind.SessionEnd]);
          unlinkSync(path);
          assert.equal(scanner.isReplaced(), true);
          scanner.reopen();
          assert.equal(scanner.identity(), null);
          assert.equal(scanner.scan(0).count, 0);
        } finally {
          scanner.close();
        }
      });

      it('readPayload returns exactly the payload bytes; readPayloadText decodes them', () => {
        const path = freshPath();
        const payload = '{"m":"Grüße SESSION\\u005fEND 🌍","n":12345678901234567890}';
        writeFileSync(path, request(1, '{}') + request(2, payload));
        const scanner = openScanner(path, { engine });
        try {
          const last = scanner.findLast(KindMask.Request)!;
          assert.equal(last.index, 2);
          assert.deepEqual(scanner.readPayload(last), Buffer.from(payload));
          assert.equal(scanner.readPayloadText(last), payload);
          assert.equal(scanner.readPayloadText(recordAt(scanner.scan(0), 0)), '{}');
        } finally {
          scanner.close();
        }
      });

      it('readPayload of a payload cut off by truncation fails with RMS_LOG_REPLACED', () => {
        const path = freshPath();
        writeFileSync(path, request(1, '{"long":"' + 'x'.repeat(1000) + '"}'));
        const scanner = openScanner(path, { engine });
        try {
          const record = recordAt(scanner.scan(0), 0);
          truncateSync(path, 100);
          assert.throws(() => scanner.readPayload(record), { code: 'RMS_LOG_REPLACED' });
        } finally {
          scanner.close();
        }
      });

      it('close() is idempotent, and a closed scanner refuses to read with RMS_SCANNER_CLOSED', () => {
        const path = freshPath();
        writeFileSync(path, 'SESSION_END\n');
        const scanner = openScanner(path, { engine });
        assert.equal(scanner.scan(0).count, 1);
        scanner.close();
        scanner.close();
        assert.throws(() => scanner.scan(0), { code: 'RMS_SCANNER_CLOSED' });
        assert.throws(() => scanner.findLast(KindMask.SessionEnd), { code: 'RMS_SCANNER_CLOSED' });
        assert.equal(scanner.isReplaced(), false);
      });
    });
  }
});
