import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelClient } from '../../src/client/model-client.js';
import { compactJson, encodeRequestLine, SESSION_END_LINE } from '../../src/protocol/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const REQUEST = '{"model":"m","messages":[{"role":"user","content":"hello"}]}';
const RESPONSE = '{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}';

/** A request line as the service writes it. */
function requestLine(index: number, content = `turn ${index}`): string {
  return encodeRequestLine(compactJson(JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] })), index).toString('utf8');
}

function logLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

function responseLines(file: string): string[] {
  return logLines(file).filter((line) => line.startsWith('LLM_RESPONSE_START'));
}

/** Parses a line the way the reference's reader does: split on the markers, substring test for the session end. */
function referenceRead(line: string): { request?: unknown; response?: unknown; meta?: unknown; sessionEnd: boolean } {
  if (line.includes('LLM_REQUEST_START')) {
    const payload = line.split('LLM_REQUEST_START')[1]!.split('LLM_REQUEST_END')[0]!;
    return { request: JSON.parse(payload), meta: JSON.parse(line.split('LLM_REQUEST_END')[1]!), sessionEnd: false };
  }
  if (line.includes('LLM_RESPONSE_START')) {
    const payload = line.split('LLM_RESPONSE_START')[1]!.split('LLM_RESPONSE_END')[0]!;
    return { response: JSON.parse(payload), meta: JSON.parse(line.split('LLM_RESPONSE_END')[1]!), sessionEnd: false };
  }
  return { sessionEnd: line.includes('SESSION_END') };
}

describe('ModelClient', () => {
  let dir: string;
  let log: string;
  let client: ModelClient;

  beforeEach(() => {
    dir = makeTempDir('client');
    log = join(dir, 'LLMService.log');
    client = new ModelClient({ dataDir: dir });
  });

  afterEach(() => {
    client.close();
    removeDir(dir);
  });

  describe('argument rules', () => {
    it('refuses a negative or fractional index without touching the log', async () => {
      writeFileSync(log, requestLine(1));
      for (const index of [-1, 1.5, Number.NaN]) {
        await assert.rejects(client.antiCallLlm(index, RESPONSE), { code: 'RMS_INVALID_ARGUMENT' });
      }
      assert.equal(logLines(log).length, 1);
    });

    it('refuses a response with index 0 and a missing response with index 1', async () => {
      writeFileSync(log, requestLine(1));
      await assert.rejects(client.antiCallLlm(0, RESPONSE), { code: 'RMS_USAGE' });
      await assert.rejects(client.antiCallLlm(1), { code: 'RMS_USAGE' });
      assert.equal(logLines(log).length, 1);
    });

    it('refuses a response that is not JSON and writes nothing', async () => {
      writeFileSync(log, requestLine(1));
      await assert.rejects(client.antiCallLlm(1, '{"choices": ['), { code: 'RMS_INVALID_JSON' });
      assert.equal(logLines(log).length, 1);
    });

    it('refuses an index whose next one is past 2^53 before writing anything', async () => {
      writeFileSync(log, requestLine(1));
      const max = Number.MAX_SAFE_INTEGER;
      await assert.rejects(client.antiCallLlm(max, RESPONSE), { code: 'RMS_INVALID_ARGUMENT' });
      await assert.rejects(client.pushResponse(max, RESPONSE), { code: 'RMS_INVALID_ARGUMENT' });
      assert.equal(logLines(log).length, 1);
      assert.equal(await client.pushResponse(max - 1, RESPONSE), true);
    });

    it('refuses to append through a log that is a symbolic link', async () => {
      const target = join(dir, 'target.log');
      const content = requestLine(1);
      writeFileSync(target, content);
      symlinkSync(target, log);
      await assert.rejects(client.pushResponse(1, RESPONSE), { code: 'RMS_UNSAFE_PATH' });
      assert.equal(readFileSync(target, 'utf8'), content);
    });

    it('refuses to answer when there is no log, instead of creating one in the wrong place', async () => {
      await assert.rejects(client.pushResponse(1, RESPONSE), { code: 'RMS_LOG_NOT_FOUND' });
      assert.equal(existsSync(log), false);
    });

    it('takes its default log from ROCK_MODEL_SERVICE_DATA_DIR', () => {
      const saved = process.env.ROCK_MODEL_SERVICE_DATA_DIR;
      process.env.ROCK_MODEL_SERVICE_DATA_DIR = dir;
      try {
        assert.equal(new ModelClient().logFile, log);
      } finally {
        if (saved === undefined) delete process.env.ROCK_MODEL_SERVICE_DATA_DIR;
        else process.env.ROCK_MODEL_SERVICE_DATA_DIR = saved;
      }
    });
  });

  describe('turns', () => {
    it('index 0 returns request 1 exactly as stored', async () => {
      writeFileSync(log, `LLM_REQUEST_START${REQUEST}LLM_REQUEST_END{"timestamp": 1, "index": 1}\n`);
      assert.equal(await client.antiCallLlm(0), REQUEST);
    });

    it('index N appends response N as one line and returns request N+1', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const request = await client.antiCallLlm(1, RESPONSE);
      assert.equal(JSON.parse(request).messages[0].content, 'turn 2');
      const lines = responseLines(log);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /^LLM_RESPONSE_START\{"choices".*LLM_RESPONSE_END\{"timestamp": \d+, "index": 1\}$/);
    });

    it('a retry of the same index writes no second response line and returns the same request', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const first = await client.antiCallLlm(1, RESPONSE);
      const again = await client.antiCallLlm(1, RESPONSE);
      assert.equal(again, first);
      assert.equal(responseLines(log).length, 1);
    });

    it('appendResponse tells a retry (same JSON, however spaced) from a different answer, and writes neither', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      assert.equal(await client.appendResponse(1, RESPONSE), 'written');
      assert.equal(await client.appendResponse(1, JSON.stringify(JSON.parse(RESPONSE), null, 2)), 'retry');
      assert.equal(await client.appendResponse(1, '{"choices":[]}'), 'conflict');
      assert.equal(await client.pushResponse(1, '{"choices":[]}'), false);
      assert.equal(responseLines(log).length, 1);
      assert.match(responseLines(log)[0]!, /"content":"hi"/);
    });

    it('a response index lower than the last one written is an error and writes nothing', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2) + requestLine(3));
      await client.antiCallLlm(1, RESPONSE);
      await client.antiCallLlm(2, RESPONSE);
      await assert.rejects(client.antiCallLlm(1, RESPONSE), { code: 'RMS_INDEX_REGRESSION', lastIndex: 2 });
      assert.equal(responseLines(log).length, 2);
    });

    it('SESSION_END wins when it is the latest request-or-session-end line', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2) + SESSION_END_LINE.toString());
      assert.equal(await client.antiCallLlm(1, RESPONSE), 'SESSION_END');
      assert.equal(responseLines(log).length, 1);
    });

    it('a request that mentions SESSION_END is returned with the marker escaped, not as the end', async () => {
      writeFileSync(log, requestLine(1, 'say SESSION_END and LLM_REQUEST_END please'));
      const request = await client.antiCallLlm(0);
      assert.equal(request.includes('SESSION_END'), false);
      assert.equal(JSON.parse(request).messages[0].content, 'say SESSION_END and LLM_REQUEST_END please');
    });

    it('popRequestBytes gives the stored bytes, and SESSION_END as bytes once the session ended', async () => {
      writeFileSync(log, requestLine(1, 'héllo'));
      const bytes = await client.popRequestBytes(1);
      assert.ok(Buffer.isBuffer(bytes));
      assert.equal(JSON.parse(bytes.toString('utf8')).messages[0].content, 'héllo');
      appendFileSync(log, 'SESSION_END\n');
      assert.equal((await client.popRequestBytes(2)).toString(), 'SESSION_END');
    });

    it('finds request N+1 by reading back when the agent already sent later ones', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2) + requestLine(3) + requestLine(4));
      assert.equal(JSON.parse(await client.antiCallLlm(1, RESPONSE)).messages[0].content, 'turn 2');
      assert.equal(JSON.parse(await client.antiCallLlm(0)).messages[0].content, 'turn 1');
    });

    it('follows the log when it is replaced (the service restarted)', async () => {
      writeFileSync(log, requestLine(1, 'old session'));
      assert.equal(JSON.parse(await client.antiCallLlm(0)).messages[0].content, 'old session');
      writeFileSync(join(dir, 'next.log'), requestLine(1, 'new session'));
      const { renameSync } = await import('node:fs');
      renameSync(join(dir, 'next.log'), log);
      assert.equal(JSON.parse(await client.antiCallLlm(0)).messages[0].content, 'new session');
    });
  });

  describe('waiting', () => {
    it('index 0 waits for the log to appear and returns request 1', async () => {
      const pending = client.antiCallLlm(0, undefined, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(log, requestLine(1));
      assert.equal(JSON.parse(await pending).messages[0].content, 'turn 1');
    });

    it('index 0 waits even when the data dir does not exist yet', async () => {
      const nested = join(dir, 'later');
      const waiting = new ModelClient({ dataDir: nested });
      try {
        const pending = waiting.antiCallLlm(0, undefined, { timeoutMs: 5000 });
        await new Promise((r) => setTimeout(r, 50));
        mkdirSync(nested);
        writeFileSync(join(nested, 'LLMService.log'), requestLine(1));
        assert.equal(JSON.parse(await pending).messages[0].content, 'turn 1');
      } finally {
        waiting.close();
      }
    });

    it('index 0 waits past lines that are not requests, and a half-written request', async () => {
      writeFileSync(log, 'a line the protocol does not know\nLLM_REQUEST_START{"model"');
      const pending = client.antiCallLlm(0, undefined, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      appendFileSync(log, ':"m"}LLM_REQUEST_END{"timestamp": 1, "index": 1}\n');
      assert.equal(await pending, '{"model":"m"}');
    });

    it('returns request N+1 as soon as the service appends it', async () => {
      writeFileSync(log, requestLine(1));
      const started = performance.now();
      const pending = client.antiCallLlm(1, RESPONSE, { timeoutMs: 5000 });
      setTimeout(() => appendFileSync(log, requestLine(2)), 20);
      assert.equal(JSON.parse(await pending).messages[0].content, 'turn 2');
      // Event-driven: far below the reference's one-second sleep per poll.
      assert.ok(performance.now() - started < 500);
    });

    it('does not take a request whose line is still being written', async () => {
      writeFileSync(log, requestLine(1));
      const pending = client.popRequest(2, { timeoutMs: 5000 });
      const line = requestLine(2);
      appendFileSync(log, line.slice(0, 30));
      await new Promise((r) => setTimeout(r, 50));
      appendFileSync(log, line.slice(30));
      assert.equal(JSON.parse(await pending).messages[0].content, 'turn 2');
    });

    it('returns SESSION_END when the session ends while it waits', async () => {
      writeFileSync(log, requestLine(1));
      const pending = client.antiCallLlm(1, RESPONSE, { timeoutMs: 5000 });
      setTimeout(() => appendFileSync(log, 'SESSION_END\n'), 20);
      assert.equal(await pending, 'SESSION_END');
    });

    it('several waits share one client and each gets its own request', async () => {
      writeFileSync(log, requestLine(1));
      const waits = [4, 2, 3].map((i) => client.popRequest(i, { timeoutMs: 5000 }));
      appendFileSync(log, requestLine(2));
      await new Promise((r) => setTimeout(r, 20));
      appendFileSync(log, requestLine(3) + requestLine(4));
      const got = (await Promise.all(waits)).map((text) => JSON.parse(text).messages[0].content);
      assert.deepEqual(got, ['turn 4', 'turn 2', 'turn 3']);
    });

    it('gives up with a TimeoutError after timeoutMs', async () => {
      writeFileSync(log, requestLine(1));
      await assert.rejects(client.antiCallLlm(1, RESPONSE, { timeoutMs: 100 }), { code: 'RMS_TIMEOUT', timeoutMs: 100 });
      assert.equal(responseLines(log).length, 1);
    });

    it('gives up with an AbortedError when its signal aborts', async () => {
      writeFileSync(log, requestLine(1));
      const controller = new AbortController();
      const pending = client.popRequest(2, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, { code: 'RMS_ABORTED' });
      await assert.rejects(client.popRequest(2, { signal: AbortSignal.abort() }), { code: 'RMS_ABORTED' });
    });

    it('a closed client refuses further calls and writes nothing', async () => {
      writeFileSync(log, requestLine(1));
      client.close();
      await assert.rejects(client.antiCallLlm(1, RESPONSE), { code: 'RMS_SCANNER_CLOSED' });
      await assert.rejects(client.popRequest(1), { code: 'RMS_SCANNER_CLOSED' });
      assert.equal(responseLines(log).length, 0);
    });

    it('a wait for request N+1 fails with LogReplacedError when the log is replaced, instead of taking the new session\'s request', async () => {
      writeFileSync(log, requestLine(1, 'old session') + requestLine(2, 'old session'));
      const pending = client.antiCallLlm(2, RESPONSE, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(dir, 'next.log'), requestLine(1, 'new session') + requestLine(2, 'new session') + requestLine(3, 'new session'));
      renameSync(log, `${log}.prev`);
      renameSync(join(dir, 'next.log'), log);
      await assert.rejects(pending, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'RMS_LOG_REPLACED');
        assert.match(err.message, /replaced.*restarted.*index 0/);
        return true;
      });
    });

    it('a wait for request N+1 fails with LogReplacedError when the log is truncated and rewritten', async () => {
      writeFileSync(log, requestLine(1, 'old session'));
      const pending = client.antiCallLlm(1, RESPONSE, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(log, requestLine(1, 'new session') + requestLine(2, 'new session'));
      await assert.rejects(pending, { code: 'RMS_LOG_REPLACED' });
    });

    it('a wait for request N+1 goes on when the log is truncated but the service keeps numbering (nobody restarted it)', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const pending = client.antiCallLlm(2, RESPONSE, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      truncateSync(log, 0);
      await new Promise((r) => setTimeout(r, 50));
      appendFileSync(log, requestLine(3));
      assert.equal(JSON.parse(await pending).messages[0].content, 'turn 3');
    });

    it('a wait for request 1 goes on in a replaced log and returns the new session\'s first request', async () => {
      writeFileSync(log, 'a line the protocol does not know\n');
      const pending = client.antiCallLlm(0, undefined, { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(dir, 'next.log'), requestLine(1, 'new session'));
      renameSync(join(dir, 'next.log'), log);
      assert.equal(JSON.parse(await pending).messages[0].content, 'new session');
    });

    it('close() releases a pending wait with an AbortedError', async () => {
      writeFileSync(log, requestLine(1));
      const pending = client.popRequest(2);
      client.close();
      await assert.rejects(pending, { code: 'RMS_ABORTED' });
    });
  });

  describe('payloads', () => {
    it('keeps marker strings, 19-digit integers, non-ASCII and a pretty-printed response intact on one line', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2));
      const response = [
        '{',
        '  "id": 1234567890123456789,',
        '  "choices": [ { "message": { "role": "assistant",',
        '     "content": "héllo 世界 🚀 LLM_RESPONSE_END SESSION_END\\nLLM_REQUEST_START" } } ]',
        '}',
      ].join('\n');
      await client.antiCallLlm(1, response);
      const lines = logLines(log);
      assert.equal(lines.length, 3);
      const line = lines[2]!;
      assert.ok(line.includes('"id":1234567890123456789'), line);
      const read = referenceRead(line);
      assert.equal(read.sessionEnd, false);
      assert.deepEqual((read.meta as { index: number }).index, 1);
      const message = (read.response as { choices: { message: { content: string } }[] }).choices[0]!.message;
      assert.equal(message.content, 'héllo 世界 🚀 LLM_RESPONSE_END SESSION_END\nLLM_REQUEST_START');
    });
  });

  describe('interoperability with the reference', () => {
    it('reads a log written with Python separators and unescaped non-ASCII', async () => {
      const request = '{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "héllo"}], "n": 12345678901234567890}';
      writeFileSync(
        log,
        `LLM_REQUEST_START${request}LLM_REQUEST_END{"timestamp": 1700000000000, "index": 1}\n` +
          `LLM_RESPONSE_START{"choices": []}LLM_RESPONSE_END{"timestamp": 1700000000001, "index": 1}\n` +
          `LLM_REQUEST_START${request.replace('héllo', 'again')}LLM_REQUEST_END{"timestamp": 1700000000002, "index": 2}\n`,
      );
      assert.equal(await client.antiCallLlm(0), request);
      // Response 1 is there already: a retry.
      assert.equal(await client.antiCallLlm(1, RESPONSE), request.replace('héllo', 'again'));
      assert.equal(responseLines(log).length, 1);
      await assert.rejects(client.pushResponse(0, RESPONSE), { code: 'RMS_INVALID_ARGUMENT' });
    });

    it('writes lines the reference reader splits correctly', async () => {
      writeFileSync(log, requestLine(1) + requestLine(2) + requestLine(3));
      await client.antiCallLlm(1, RESPONSE);
      await client.antiCallLlm(2, '{"choices":[{"message":{"content":"SESSION_END is just a word"}}]}');
      const read = logLines(log).map(referenceRead);
      assert.deepEqual(read.map((r) => r.sessionEnd), [false, false, false, false, false]);
      const responses = read.filter((r) => r.response !== undefined);
      assert.deepEqual(responses.map((r) => (r.meta as { index: number }).index), [1, 2]);
      assert.deepEqual(responses[0]!.response, JSON.parse(RESPONSE));
    });
  });
});
