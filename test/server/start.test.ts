import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyRunningError, ConfigError } from '../../src/errors.js';
import { compactJson, encodeResponseLine } from '../../src/protocol/index.js';
import { startServer } from '../../src/server/index.js';
import { startTestService } from '../helpers/service.js';
import { ScriptedUpstream, post, startProxy } from '../proxy/fixtures.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const REPLY = '{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}';

describe('server: start and stop', () => {
  it('creates the data dir, moves the old log to LLMService.log.prev and numbers from 1 in a new empty log', async () => {
    const root = makeTempDir('start');
    const dir = join(root, 'nested', 'data');
    const first = await startTestService({}, dir);
    const pending = first.chat('{"model":"m","messages":[]}');
    await first.request(1);
    first.respond(1, REPLY);
    await pending;
    const oldLog = readFileSync(first.logFile);
    await first.server.close();

    const second = await startTestService({}, dir);
    try {
      assert.deepEqual(readFileSync(join(dir, 'LLMService.log.prev')), oldLog);
      assert.equal(statSync(second.logFile).size, 0);
      const next = second.chat('{"model":"m","messages":["again"]}');
      assert.equal(await second.request(1), '{"model":"m","messages":["again"]}');
      second.respond(1, REPLY);
      assert.equal((await next).status, 200);
    } finally {
      await second.close();
      removeDir(root);
    }
  });

  it('reports its address and the scanner in use', async () => {
    const svc = await startTestService();
    try {
      assert.match(svc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(svc.server.port, Number(new URL(svc.url).port));
      assert.ok(['native', 'ts'].includes(svc.server.scannerKind));
    } finally {
      await svc.close();
    }
  });

  it('writes its structured log to the configured file (creating its directory), one JSON object a line, without request bodies', async () => {
    const root = makeTempDir('start-log');
    const serviceLogFile = join(root, 'logs', 'model_service.log');
    const svc = await startTestService({ serviceLogFile, logLevel: 'info' });
    try {
      const pending = svc.chat('{"model":"m","messages":["secret body"]}');
      await svc.request(1);
      svc.respond(1, REPLY);
      await pending;
      await svc.server.close();
      const lines = readFileSync(serviceLogFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.msg === 'model service started' && l.scanner === svc.server.scannerKind));
      // One info line per turn event, as the reference logs them.
      assert.ok(lines.some((l) => l.msg === 'request appended' && l.index === 1 && typeof l.requestId === 'string'));
      assert.ok(lines.some((l) => l.msg === 'response arrived' && l.index === 1 && typeof l.ms === 'number'));
      assert.ok(lines.some((l) => l.msg === 'response delivered' && l.index === 1));
      assert.ok(lines.some((l) => l.msg === 'model service stopping'));
      assert.ok(!readFileSync(serviceLogFile, 'utf8').includes('secret body'));
    } finally {
      await svc.close();
      removeDir(root);
    }
  });

  it('refuses a log level pino does not know, listing the ones it does', async () => {
    const dir = makeTempDir('start-level');
    try {
      await assert.rejects(
        startServer({ host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'verbose' }),
        (err: Error) => err instanceof ConfigError && /"verbose".*fatal, error, warn, info, debug, trace, silent/.test(err.message),
      );
    } finally {
      removeDir(dir);
    }
  });

  it('refuses a second service on the same data dir, naming the holder, and takes it once the first stopped', async () => {
    const svc = await startTestService();
    try {
      await assert.rejects(
        startServer({ host: '127.0.0.1', port: 0, dataDir: svc.dir, logLevel: 'silent' }),
        (err: Error) => err instanceof AlreadyRunningError && new RegExp(`data dir ${svc.dir} is in use by the model service pid ${process.pid}`).test(err.message),
      );
      await svc.server.close();
      const again = await startServer({ host: '127.0.0.1', port: 0, dataDir: svc.dir, logLevel: 'silent' });
      await again.close();
    } finally {
      await svc.close();
    }
  });

  it('fails to start on a port in use, leaving nothing listening', async () => {
    const svc = await startTestService();
    const dir = makeTempDir('start-busy');
    try {
      await assert.rejects(startServer({ host: '127.0.0.1', port: svc.server.port, dataDir: dir, logLevel: 'silent' }), /EADDRINUSE/);
      assert.equal((await fetch(`${svc.url}/health`)).status, 200);
    } finally {
      await svc.close();
      removeDir(dir);
    }
  });

  it('answers waiting calls with 503 on close, then stops listening', async () => {
    const svc = await startTestService();
    const pending = svc.chat('{"model":"m","messages":[]}');
    await svc.request(1);
    await svc.close();
    const res = await pending;
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /stopping/);
    await assert.rejects(fetch(`${svc.url}/health`));
    assert.ok(!existsSync(svc.dir));
  });

  it('answers a waiting call from the new content after its log is truncated', async () => {
    const svc = await startTestService();
    try {
      const pending = svc.chat('{"model":"m","messages":[]}');
      await svc.request(1);
      truncateSync(svc.logFile, 0);
      svc.respond(1, REPLY);
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(await res.text(), REPLY);
    } finally {
      await svc.close();
    }
  });

  it('answers a waiting call from the new file after its log is replaced, and writes later requests there', async () => {
    const svc = await startTestService();
    try {
      const pending = svc.chat('{"model":"m","messages":[]}');
      await svc.request(1);
      const next = join(svc.dir, 'replacement.log');
      writeFileSync(next, encodeResponseLine(compactJson(REPLY), 1));
      renameSync(next, svc.logFile);
      assert.equal(await (await pending).text(), REPLY);
      const later = svc.chat('{"model":"m","messages":["later"]}');
      assert.equal(await svc.request(2), '{"model":"m","messages":["later"]}');
      svc.respond(2, REPLY);
      assert.equal((await later).status, 200);
    } finally {
      await svc.close();
    }
  });

  it('records every call in append mode, and only the latest in overwrite mode', async () => {
    for (const append of [true, false]) {
      const svc = await startTestService({ trajectoryAppend: append });
      try {
        for (let i = 1; i <= 3; i++) {
          const pending = svc.chat(`{"turn":${i}}`);
          await svc.request(i);
          svc.respond(i, `{"answer":${i}}`);
          await pending;
        }
        await svc.server.close();
        const lines = readFileSync(svc.server.config.trajectoryFile, 'utf8').trimEnd().split('\n');
        const expected = [1, 2, 3].map((i) => `{"request":{"turn":${i}},"response":{"answer":${i}}}`);
        assert.deepEqual(lines, append ? expected : expected.slice(2));
      } finally {
        await svc.close();
      }
    }
  });

  it('stops a proxy service with a stalled upstream call at once, answering that call with 502', async () => {
    const upstream = await ScriptedUpstream.start(() => {
      // never answers
    });
    const proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, requestTimeoutMs: 60_000 });
    try {
      const stalled = post(proxy, { model: 'm', messages: [] });
      while (upstream.calls.length < 1) await new Promise((r) => setTimeout(r, 5));
      const started = Date.now();
      await proxy.close();
      const stoppedMs = Date.now() - started;
      assert.ok(stoppedMs < 2000, `stopping took ${stoppedMs} ms`);
      const res = await stalled;
      assert.equal(res.status, 502);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /stopping/);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
