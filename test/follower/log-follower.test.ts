import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, linkSync, mkdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogFollower, type LogUnavailable, type ResetReason } from '../../src/follower/index.js';
import { encodeResponseLine } from '../../src/protocol/index.js';
import { availableEngines, openScanner, recordAt, RecordKind } from '../../src/scanner/index.js';
import { bytesRead } from '../scanner/log-files.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const line = (index: number, text = 'x'): Buffer => encodeResponseLine(JSON.stringify({ text }), index);

async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

for (const engine of availableEngines()) {
  describe(`LogFollower (${engine.kind} engine)`, () => {
    let dir: string;
    let path: string;
    const followers: LogFollower[] = [];
    const follow = (options: ConstructorParameters<typeof LogFollower>[1] = {}): { follower: LogFollower; indexes: number[]; resets: ResetReason[] } => {
      const follower = new LogFollower(path, { scanner: openScanner(path, { engine }), ...options });
      followers.push(follower);
      const indexes: number[] = [];
      const resets: ResetReason[] = [];
      follower.onRecords((batch) => {
        for (let i = 0; i < batch.count; i++) indexes.push(recordAt(batch, i).index);
      });
      follower.onReset((reason) => resets.push(reason));
      return { follower, indexes, resets };
    };

    beforeEach(() => {
      dir = makeTempDir('follow');
      path = join(dir, 'LLMService.log');
    });
    afterEach(() => {
      for (const f of followers.splice(0)) f.close();
      removeDir(dir);
    });

    it('wakes on file events without waiting for the poll', async () => {
      writeFileSync(path, '');
      const { indexes } = follow({ pollIntervalMs: 60_000 });
      const started = Date.now();
      appendFileSync(path, line(1));
      await until(() => indexes.length === 1, 2000, 'the event-driven scan');
      assert.ok(Date.now() - started < 1000);
      appendFileSync(path, Buffer.concat([line(2), line(3)]));
      await until(() => indexes.length === 3, 2000, 'the second wake');
      assert.deepEqual(indexes, [1, 2, 3]);
    });

    it('falls back to the poll when no event reaches it (writes through a hard link in another directory)', async () => {
      writeFileSync(path, '');
      const other = makeTempDir('follow-link');
      try {
        const alias = join(other, 'alias.log');
        linkSync(path, alias);
        const { indexes } = follow({ pollIntervalMs: 30 });
        appendFileSync(alias, line(7));
        await until(() => indexes.length === 1, 2000, 'the poll');
        assert.deepEqual(indexes, [7]);
      } finally {
        removeDir(other);
      }
    });

    it('polls only while polling is not paused; file events wake it either way', async () => {
      writeFileSync(path, '');
      const other = makeTempDir('follow-link');
      try {
        const alias = join(other, 'alias.log');
        linkSync(path, alias);
        const { follower, indexes } = follow({ pollIntervalMs: 20 });
        follower.pausePolling();
        appendFileSync(alias, line(1));
        await new Promise((r) => setTimeout(r, 150));
        assert.deepEqual(indexes, [], 'a paused follower polled');
        appendFileSync(path, line(2));
        await until(() => indexes.length === 2, 2000, 'the event-driven scan while paused');
        appendFileSync(alias, line(3));
        follower.resumePolling();
        await until(() => indexes.length === 3, 2000, 'the poll after resuming');
        assert.deepEqual(indexes, [1, 2, 3]);
      } finally {
        removeDir(other);
      }
    });

    it('delivers each complete line once, keeps a partial line for later, and saves its offset', async () => {
      writeFileSync(path, Buffer.concat([line(1), line(2)]));
      const { follower, indexes } = follow();
      follower.poke();
      assert.deepEqual(indexes, [1, 2]);
      const third = line(3);
      appendFileSync(path, third.subarray(0, 10));
      follower.poke();
      assert.deepEqual(indexes, [1, 2]);
      const offset = follower.offset;
      assert.equal(offset, line(1).length + line(2).length);
      appendFileSync(path, third.subarray(10));
      follower.poke();
      follower.poke();
      assert.deepEqual(indexes, [1, 2, 3]);
      assert.equal(follower.offset, offset + third.length);
      assert.equal(follower.bytesScanned, follower.offset);
    });

    it('starts from the given offset', () => {
      writeFileSync(path, Buffer.concat([line(1), line(2)]));
      const { follower, indexes } = follow({ fromOffset: line(1).length });
      follower.poke();
      assert.deepEqual(indexes, [2]);
    });

    it('delivers a long backlog in batches, in order', () => {
      writeFileSync(path, Buffer.concat(Array.from({ length: 95 }, (_, i) => line(i + 1))));
      const { follower, indexes } = follow({ maxRecords: 10 });
      let batches = 0;
      follower.onRecords(() => batches++);
      follower.poke();
      assert.equal(batches, 10);
      assert.deepEqual(indexes, Array.from({ length: 95 }, (_, i) => i + 1));
    });

    it('treats a missing file as nothing yet, and follows it once created', async () => {
      const { follower, indexes } = follow({ pollIntervalMs: 30 });
      follower.poke();
      assert.deepEqual(indexes, []);
      appendFileSync(path, line(1));
      await until(() => indexes.length === 1, 2000, 'the new file');
    });

    it('follows a directory that appears after it started', async () => {
      path = join(dir, 'later', 'LLMService.log');
      const { indexes } = follow({ pollIntervalMs: 30 });
      mkdirSync(join(dir, 'later'));
      appendFileSync(path, line(1));
      await until(() => indexes.length === 1, 2000, 'the file in the new directory');
    });

    it('detects a truncation, goes back to offset 0 and reads the new content', async () => {
      writeFileSync(path, Buffer.concat([line(1), line(2), line(3)]));
      const { follower, indexes, resets } = follow();
      follower.poke();
      truncateSync(path, 0);
      appendFileSync(path, line(9));
      await until(() => indexes.length === 4, 2000, 'the record after the truncation');
      assert.deepEqual(indexes, [1, 2, 3, 9]);
      assert.deepEqual(resets, ['truncated']);
    });

    it('detects a replacement (a new inode under the same name) and follows the new file', async () => {
      writeFileSync(path, Buffer.concat([line(1), line(2)]));
      const { follower, indexes, resets } = follow({ pollIntervalMs: 60_000 });
      follower.poke();
      const next = join(dir, 'next.log');
      writeFileSync(next, line(5));
      renameSync(next, path);
      await until(() => indexes.length === 3, 2000, 'the record of the new file');
      assert.deepEqual(indexes, [1, 2, 5]);
      assert.deepEqual(resets, ['replaced']);
      appendFileSync(path, line(6));
      await until(() => indexes.length === 4, 2000, 'an append to the new file (the watch is on the directory)');
    });

    it('takes a file that replaced the log before the first wake for a replacement, not for the log it started on', () => {
      writeFileSync(path, line(1));
      const { follower, indexes, resets } = follow({ pollIntervalMs: 60_000 });
      const next = join(dir, 'next.log');
      writeFileSync(next, line(5));
      renameSync(next, path);
      follower.poke();
      assert.deepEqual(resets, ['replaced']);
      assert.deepEqual(indexes, [5]);
    });

    it('notices a truncation hidden by a rewrite longer than what it had read', () => {
      writeFileSync(path, line(1, 'a'));
      const { follower, indexes, resets } = follow({ pollIntervalMs: 60_000 });
      follower.poke();
      writeFileSync(path, Buffer.concat([line(2, 'a much longer payload than before'), line(3)]));
      follower.poke();
      assert.deepEqual(resets, ['truncated']);
      assert.deepEqual(indexes, [1, 2, 3]);
    });

    it('survives the log being deleted and created again', async () => {
      writeFileSync(path, line(1));
      const { follower, indexes } = follow({ pollIntervalMs: 30 });
      follower.poke();
      rmSync(path);
      follower.poke();
      appendFileSync(path, line(2));
      await until(() => indexes.length === 2, 2000, 'the re-created file');
      assert.deepEqual(indexes, [1, 2]);
    });

    describe('a log that becomes unavailable and comes back', () => {
      /** Follows with polling paused, as an idle service does: only file events and the recovery poll wake it. */
      function followIdle() {
        const followed = follow({ pollIntervalMs: 30 });
        followed.follower.pausePolling();
        const states: (LogUnavailable['reason'] | 'available')[] = [];
        followed.follower.onAvailability((u) => states.push(u?.reason ?? 'available'));
        return { ...followed, states };
      }

      it('the data dir deleted: reports the log missing, then follows the re-created dir and file', async () => {
        path = join(dir, 'data', 'LLMService.log');
        mkdirSync(join(dir, 'data'));
        writeFileSync(path, line(1));
        const { follower, indexes, resets, states } = followIdle();
        follower.poke();
        rmSync(join(dir, 'data'), { recursive: true });
        await until(() => follower.unavailable?.reason === 'missing', 2000, 'the log reported missing');
        mkdirSync(join(dir, 'data'));
        appendFileSync(path, line(2));
        await until(() => indexes.length === 2, 2000, 'the record in the re-created file');
        assert.deepEqual(indexes, [1, 2]);
        assert.equal(follower.unavailable, undefined);
        assert.deepEqual(states, ['missing', 'available']);
        assert.ok(resets.every((r) => r === 'replaced') && resets.length >= 1, `resets: ${resets}`);
        // The recovery poll stopped (polling is paused): the watch on the new directory wakes it.
        appendFileSync(path, line(3));
        await until(() => indexes.length === 3, 2000, 'an append seen through the re-armed watch');
      });

      it('the log replaced by something it cannot open: reported once, then the regular file that replaces it is read from its start', async () => {
        writeFileSync(path, line(1));
        const { follower, indexes, states } = followIdle();
        const errors: unknown[] = [];
        follower.onError((err) => errors.push(err));
        follower.poke();
        rmSync(path);
        mkdirSync(path);
        follower.poke();
        assert.equal(follower.unavailable?.reason, 'unreadable');
        assert.match(String((follower.unavailable?.error as Error).message), /is a directory, not a regular file/);
        for (let i = 0; i < 5; i++) follower.poke();
        assert.equal(errors.length, 1, 'reported once, not at every wake');
        rmSync(path, { recursive: true });
        writeFileSync(path, Buffer.concat([line(4), line(5)]));
        await until(() => indexes.length === 3, 2000, 'the records of the new file');
        assert.deepEqual(indexes, [1, 4, 5]);
        assert.deepEqual(states, ['unreadable', 'available']);
      });

      it('a fifo at the log path does not block the process', function () {
        writeFileSync(path, line(1));
        const { follower, indexes } = followIdle();
        follower.poke();
        rmSync(path);
        try {
          execFileSync('mkfifo', [path]);
        } catch {
          this.skip();
        }
        follower.poke();
        assert.equal(follower.unavailable?.reason, 'unreadable');
        assert.match(String((follower.unavailable?.error as Error).message), /is a fifo, not a regular file/);
        assert.deepEqual(indexes, [1]);
      });
    });

    it('searches a line still being written only from where it stopped, wake after wake', function () {
      writeFileSync(path, Buffer.concat([line(1), Buffer.from(`LLM_RESPONSE_START{"long":"${'y'.repeat(4 << 20)}`)]));
      const { follower, indexes } = follow({ pollIntervalMs: 60_000 });
      follower.poke();
      const grow = Buffer.alloc(64 << 10, 'z');
      const read = bytesRead(() => {
        for (let i = 0; i < 20; i++) {
          appendFileSync(path, grow);
          follower.poke();
        }
      });
      if (read === null) this.skip();
      assert.ok(read! < 2 * 20 * grow.length + (1 << 20), `${read} bytes read to follow ${20 * grow.length} new bytes of one line`);
      appendFileSync(path, '"}LLM_RESPONSE_END{"index": 2}\n');
      follower.poke();
      assert.deepEqual(indexes, [1, 2]);
    });

    it('never throws while the log is truncated and rewritten under it many times', async () => {
      writeFileSync(path, '');
      const { follower, indexes } = follow({ pollIntervalMs: 5 });
      const errors: unknown[] = [];
      follower.onError((err) => errors.push(err));
      for (let i = 0; i < 300; i++) {
        writeFileSync(path, '');
        appendFileSync(path, Buffer.concat([line(1), line(2)]));
        follower.poke();
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(indexes.length >= 2);
      assert.ok(!follower.closed);
    });

    it('keeps going when a listener throws, and reports the error', () => {
      writeFileSync(path, line(1));
      const follower = new LogFollower(path, { scanner: openScanner(path, { engine }) });
      followers.push(follower);
      const errors: unknown[] = [];
      const seen: number[] = [];
      follower.onError((err) => errors.push(err));
      follower.onRecords(() => {
        throw new Error('listener bug');
      });
      follower.onRecords((batch) => seen.push(batch.count));
      follower.poke();
      appendFileSync(path, line(2));
      follower.poke();
      assert.deepEqual(seen, [1, 1]);
      assert.equal(errors.length, 2);
    });

    it('stops delivering after an unsubscribe and after close', () => {
      writeFileSync(path, line(1));
      const follower = new LogFollower(path, { scanner: openScanner(path, { engine }) });
      followers.push(follower);
      let a = 0;
      let b = 0;
      const offA = follower.onRecords(() => a++);
      follower.onRecords(() => b++);
      follower.poke();
      offA();
      appendFileSync(path, line(2));
      follower.poke();
      follower.close();
      appendFileSync(path, line(3));
      follower.poke();
      assert.deepEqual([a, b], [1, 2]);
    });

    it('scans again when a listener pokes from inside a delivery', () => {
      writeFileSync(path, line(1));
      const { follower, indexes } = follow();
      follower.onRecords(() => {
        if (indexes.length === 1) {
          appendFileSync(path, line(2));
          follower.poke();
        }
      });
      follower.poke();
      assert.deepEqual(indexes, [1, 2]);
    });

    it('reads records of every kind in order', () => {
      writeFileSync(path, Buffer.concat([line(1), Buffer.from('noise\nSESSION_END\n')]));
      const follower = new LogFollower(path, { scanner: openScanner(path, { engine }) });
      followers.push(follower);
      const kinds: number[] = [];
      follower.onRecords((batch) => {
        for (let i = 0; i < batch.count; i++) kinds.push(recordAt(batch, i).kind);
      });
      follower.poke();
      assert.deepEqual(kinds, [RecordKind.Response, RecordKind.Unknown, RecordKind.SessionEnd]);
    });
  });
}

describe('LogFollower and process lifetime', () => {
  it('does not keep a process alive on its own', () => {
    const dir = makeTempDir('follow-exit');
    try {
      const module = new URL('../../src/follower/index.ts', import.meta.url).href;
      const script = `const { LogFollower } = await import(${JSON.stringify(module)}); new LogFollower(${JSON.stringify(join(dir, 'x.log'))});`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
      assert.equal(child.status, 0, child.stderr.toString());
    } finally {
      removeDir(dir);
    }
  });
});
