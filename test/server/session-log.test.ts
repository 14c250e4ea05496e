/**
 * SessionLog when its data dir is deleted under a running service (issue 14 break 2): writes
 * are refused with a clear error instead of going into the deleted file, and the service goes
 * on by itself once the dir is back. The last test runs the real service end to end.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogUnavailableError } from '../../src/errors.js';
import { SessionLog } from '../../src/server/session-log.js';
import { startTestService } from '../helpers/service.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('SessionLog when its data dir is deleted', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('session-log');
  });
  afterEach(() => removeDir(dir));

  it('a failed reopen refuses later writes with a clear error, and they succeed once the dir is back', () => {
    const dataDir = join(dir, 'data');
    const path = join(dataDir, 'LLMService.log');
    const log = SessionLog.start(dataDir, path);
    try {
      log.appendRequest('{"q":1}', 1);
      rmSync(dataDir, { recursive: true });
      assert.throws(() => log.reopen(), { code: 'ENOENT' });
      assert.throws(
        () => log.appendRequest('{"q":2}', 2),
        (err: Error) => err instanceof LogUnavailableError && /LLMService\.log is gone .*re-create .*data and the service goes on by itself/.test(err.message),
      );
      assert.equal(log.nextIndex, 2, 'a refused write uses up no index');
      mkdirSync(dataDir);
      log.appendRequest('{"q":2}', 2);
      assert.match(readFileSync(path, 'utf8'), /^LLM_REQUEST_START\{"q":2\}LLM_REQUEST_END\{"timestamp": \d+, "index": 2\}\n$/);
    } finally {
      log.close();
    }
  });

  it('the running service answers agents with that error while the dir is gone, and serves them again once it is back', async function () {
    this.timeout(20_000);
    const service = await startTestService({}, join(dir, 'data'));
    try {
      rmSync(join(dir, 'data'), { recursive: true });
      // The follower sees the log go (a directory event) and the service's reopen fails.
      let answer: Response | undefined;
      for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
        answer = await service.chat('{"model":"m","messages":[]}', { signal: AbortSignal.timeout(2000) });
        if (answer.status === 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(answer!.status, 503);
      assert.match(JSON.stringify(await answer!.json()), /is gone and cannot be created again/);
      assert.equal(answer!.headers.get('x-should-retry'), null, 'a retry helps once the dir is back');
      mkdirSync(join(dir, 'data'));
      const reply = service.chat('{"model":"m","messages":[{"role":"user","content":"back"}]}');
      for (const deadline = Date.now() + 5000; !existsSync(service.logFile) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
      assert.match(await service.request(1), /back/, 'the refused call used up no index');
      service.respond(1, '{"choices":[]}');
      const ok = await reply;
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), '{"choices":[]}');
    } finally {
      await service.close();
    }
  });

  it('answers a call that waits when the dir is deleted with 503: its request line went with the file', async function () {
    this.timeout(20_000);
    const service = await startTestService({}, join(dir, 'data'));
    try {
      const waiting = service.chat('{"model":"m","messages":[]}');
      await service.request(1);
      rmSync(join(dir, 'data'), { recursive: true });
      const answer = await waiting;
      assert.equal(answer.status, 503);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'RMS_LOG_UNAVAILABLE');
    } finally {
      await service.close();
    }
  });
});

describe('SessionLog and what is at the log path', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir('session-log');
  });
  afterEach(() => removeDir(dir));

  it('refuses to start on a dangling symbolic link and creates nothing through it', () => {
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere', 'target.log'), join(dir, 'LLMService.log'));
    assert.throws(() => SessionLog.start(dir, join(dir, 'LLMService.log')), { code: 'RMS_UNSAFE_PATH' });
    assert.equal(existsSync(join(dir, 'elsewhere', 'target.log')), false);
  });

  it('moves a regular previous log aside and starts a new empty one', () => {
    const path = join(dir, 'LLMService.log');
    writeFileSync(path, 'old\n');
    const log = SessionLog.start(dir, path);
    log.close();
    assert.equal(readFileSync(`${path}.prev`, 'utf8'), 'old\n');
    assert.equal(readFileSync(path, 'utf8'), '');
  });

  it('refuses to write through a link swapped in for the log while it runs, saying what is there', () => {
    const path = join(dir, 'LLMService.log');
    const log = SessionLog.start(dir, path);
    try {
      const target = join(dir, 'passwd');
      writeFileSync(target, 'root\n');
      rmSync(path);
      symlinkSync(target, path);
      log.markLost();
      assert.throws(
        () => log.appendRequest('{"q":1}', 1),
        (err: Error) => err instanceof LogUnavailableError && /LLMService\.log is a symbolic link, not a regular file/.test(err.message),
      );
      assert.equal(readFileSync(target, 'utf8'), 'root\n');
    } finally {
      log.close();
    }
  });
});
