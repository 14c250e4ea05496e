import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { startTestService, type TestService } from '../helpers/service.js';
import { completionText } from '../helpers/chat-completion.js';

const jsonOf = (res: Response): Promise<any> => res.json();

const REPLY = (text: string): string => completionText({ content: text });

describe('server: local-mode chat route', () => {
  let svc: TestService;
  beforeEach(async () => {
    svc = await startTestService();
  });
  afterEach(async () => {
    await svc.close();
  });

  it('answers a chat call with the response line of its index, unchanged', async () => {
    const pending = svc.chat('{"model":"m","messages":[{"role":"user","content":"hi"}]}');
    assert.equal(await svc.request(1), '{"model":"m","messages":[{"role":"user","content":"hi"}]}');
    const reply = '{"id":"x","created":12345678901234567890,"choices":[{"message":{"content":"hello"}}],"z":1.50}';
    svc.respond(1, reply);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(await res.text(), reply);
  });

  it('writes the request losslessly on one line: 19-digit integers, key order, markers escaped, non-ASCII', async () => {
    const body = '{\n  "z": 1234567890123456789,\n  "a": "LLM_REQUEST_END SESSION_END LLM_RESPONSE_START",\n  "t": "日本語 ✓ é",\n  "n": 1.0e3\n}';
    const pending = svc.chat(body);
    const payload = await svc.request(1);
    assert.equal(
      payload,
      '{"z":1234567890123456789,"a":"LLM\\u005fREQUEST_END SESSION\\u005fEND LLM\\u005fRESPONSE_START","t":"日本語 ✓ é","n":1.0e3}',
    );
    assert.deepEqual(JSON.parse(payload).a, 'LLM_REQUEST_END SESSION_END LLM_RESPONSE_START');
    const lines = svc.lines();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.kind, 'request');
    svc.respond(1, REPLY('SESSION_END is only a word here'));
    const res = await pending;
    assert.equal(res.status, 200);
    // The agent gets the stored text (markers escaped); any JSON parser reads the original value.
    assert.equal(JSON.parse(await res.text()).choices[0].message.content, 'SESSION_END is only a word here');
  });

  it('plays the reference scenario: three calls answered in turn, a repeated response changes nothing, SESSION_END after the agent dies', async () => {
    for (let i = 1; i <= 3; i++) {
      const pending = svc.chat(`{"model":"m","messages":[{"role":"user","content":"turn ${i}"}]}`);
      assert.match(await svc.request(i), new RegExp(`turn ${i}`));
      svc.respond(i, REPLY(`answer ${i}`));
      // A runtime that wrote response 2 twice (a retry that did not check): the extra line answers nobody.
      if (i === 2) svc.respond(i, REPLY('duplicate'));
      assert.equal(JSON.parse(await (await pending).text()).choices[0].message.content, `answer ${i}`);
    }
    const requests = svc.lines().filter((l) => l.kind === 'request').map((l) => l.index);
    assert.deepEqual(requests, [1, 2, 3]);
    assert.equal(await svc.metric('rock_model_service_pending_waiters'), 0);
    const pending = svc.chat('{"model":"m","messages":[{"role":"user","content":"turn 4"}]}');
    await svc.request(4);
    const watch = await fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', body: '{"pid":2147483646}' });
    assert.deepEqual(await jsonOf(watch), { status: 'watching', pid: 2147483646 });
    const res = await pending;
    assert.equal(res.status, 500);
    assert.match((await jsonOf(res)).error.message, /session has ended/);
    assert.equal(svc.lines().filter((l) => l.kind === 'session_end').length, 1);
  });

  it('answers 64 concurrent calls answered out of order, each with its own reply', async () => {
    const n = 64;
    const calls = Array.from({ length: n }, (_, i) => svc.chat(`{"model":"m","messages":[{"role":"user","content":"agent ${i}"}]}`));
    const deadline = Date.now() + 10_000;
    while (svc.lines().length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const requests = svc.lines();
    assert.equal(requests.length, n);
    const contentOf = new Map(requests.map((l) => [l.index, JSON.parse(l.payload).messages[0].content as string]));
    const order = [...contentOf.keys()].sort((a, b) => ((a * 37) % n) - ((b * 37) % n));
    for (const index of order) svc.respond(index, REPLY(`for ${contentOf.get(index)}`));
    const replies = await Promise.all(calls.map(async (c) => JSON.parse(await (await c).text()).choices[0].message.content));
    assert.deepEqual(replies, Array.from({ length: n }, (_, i) => `for agent ${i}`));
    assert.equal(await svc.metric('rock_model_service_pending_waiters'), 0);
  });

  it('drops the waiter of an agent that disconnects, and still answers the next (different) call', async () => {
    const abort = new AbortController();
    const gone = svc.chat('{"model":"m","messages":[]}', { signal: abort.signal }).catch((err: Error) => err);
    await svc.request(1);
    assert.equal(await svc.metric('rock_model_service_pending_waiters'), 1);
    abort.abort();
    assert.ok((await gone) instanceof Error);
    const deadline = Date.now() + 5000;
    while ((await svc.metric('rock_model_service_pending_waiters')) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await svc.metric('rock_model_service_pending_waiters'), 0);
    const next = svc.chat('{"model":"m","messages":[{"role":"user","content":"again"}]}');
    await svc.request(2);
    svc.respond(2, REPLY('still here'));
    assert.equal((await next).status, 200);
  });

  it('refuses a call after the session ended at once, with 500, writing nothing', async () => {
    await fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', body: '{"pid":2147483646}' });
    const deadline = Date.now() + 5000;
    while (!svc.lines().some((l) => l.kind === 'session_end') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    const res = await svc.chat('{"model":"m","messages":[]}');
    assert.equal(res.status, 500);
    assert.ok(Date.now() - started < 1000);
    const body = await jsonOf(res);
    assert.equal(body.error.code, 'RMS_SESSION_ENDED');
    assert.equal(svc.lines().length, 1);
  });

  it('treats SESSION_END written by someone else as the end of the session', async () => {
    const pending = svc.chat('{"model":"m","messages":[]}');
    await svc.request(1);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(svc.logFile, 'SESSION_END\n');
    assert.equal((await pending).status, 500);
  });

  it('answers 502 in the OpenAI error shape when the response line is not JSON or not UTF-8, and counts it', async () => {
    const { appendFileSync } = await import('node:fs');
    const payloads = [Buffer.from('not json at all'), Buffer.concat([Buffer.from('{"m":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')])];
    for (const [i, payload] of payloads.entries()) {
      const index = i + 1;
      const pending = svc.chat('{"model":"m","messages":[]}');
      await svc.request(index);
      appendFileSync(svc.logFile, Buffer.concat([Buffer.from('LLM_RESPONSE_START'), payload, Buffer.from(`LLM_RESPONSE_END{"timestamp": 0, "index": ${index}}\n`)]));
      const res = await pending;
      assert.equal(res.status, 502);
      const body = await jsonOf(res);
      assert.equal(body.error.code, 'RMS_BAD_RESPONSE');
      assert.equal(body.error.type, 'server_error');
      assert.match(body.error.message, new RegExp(`response ${index} in .* is not valid (JSON|UTF-8)`));
    }
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(metrics, /rock_model_service_requests_total\{[^}]*status="502"[^}]*\} 2/);
  });

  it('refuses bodies that are not JSON objects with 400 in the OpenAI error shape, writing nothing', async () => {
    for (const body of ['{not json', '[1,2]', '"text"', '42', '']) {
      const res = await svc.chat(body);
      assert.equal(res.status, 400, `body ${JSON.stringify(body)}`);
      const json = await jsonOf(res);
      assert.equal(typeof json.error.message, 'string');
      assert.equal(typeof json.error.type, 'string');
      assert.equal(typeof json.error.code, 'string');
    }
    const bad = await fetch(`${svc.url}/v1/chat/completions`, { method: 'POST', body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) });
    assert.equal(bad.status, 400);
    assert.equal((await jsonOf(bad)).error.code, 'RMS_INVALID_UTF8');
    assert.equal(svc.lines().length, 0);
  });

  it('answers unknown routes with 404 in the OpenAI error shape', async () => {
    const res = await fetch(`${svc.url}/v1/embeddings`);
    assert.equal(res.status, 404);
    assert.match((await jsonOf(res)).error.message, /no route for GET \/v1\/embeddings; this service answers .*POST \/v1\/messages/);
  });

  it('answers GET /health with {"status":"healthy"} and its version, pid and mode', async () => {
    const res = await fetch(`${svc.url}/health`);
    assert.equal(res.status, 200);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.deepEqual(await res.json(), { status: 'healthy', version, pid: process.pid, mode: 'local' });
  });

  it('exposes request counts, pending waiters, bytes scanned and the scanner at /metrics', async () => {
    const pending = svc.chat('{"model":"m","messages":[]}');
    await svc.request(1);
    svc.respond(1, REPLY('ok'));
    await pending;
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(text, /rock_model_service_requests_total\{mode="local",route="\/v1\/chat\/completions",status="200"\} 1/);
    assert.match(text, /rock_model_service_request_duration_seconds_bucket\{le="0.1",mode="local"/);
    assert.match(text, new RegExp(`rock_model_service_scanner_info\\{kind="${svc.server.scannerKind}"\\} 1`));
    assert.ok((await svc.metric('rock_model_service_log_bytes_scanned_total'))! > 0);
    // What a rollout operator watches: the session's progress, its state, and the process.
    assert.equal(await svc.metric('rock_model_service_latest_request_index'), 1);
    assert.equal(await svc.metric('rock_model_service_latest_response_index'), 1);
    assert.equal(await svc.metric('rock_model_service_session_ended'), 0);
    assert.equal(await svc.metric('rock_model_service_oldest_wait_seconds'), 0);
    assert.equal(await svc.metric('rock_model_service_abandoned_calls_total'), 0);
    assert.ok((await svc.metric('process_resident_memory_bytes'))! > 10_000_000);
    assert.match(text, /rock_model_service_info\{version="\d+\.\d+\.\d+[^"]*",mode="local",scanner="(native|ts)"\} 1/);
  });

  it('reports the age of the oldest waiting call at /metrics', async () => {
    const pending = svc.chat('{"model":"m","messages":[]}');
    await svc.request(1);
    await new Promise((r) => setTimeout(r, 120));
    assert.ok((await svc.metric('rock_model_service_oldest_wait_seconds'))! >= 0.1);
    svc.respond(1, REPLY('ok'));
    await pending;
  });

  it('records each completed call in the trajectory file', async () => {
    const pending = svc.chat('{"model":"m","n":12345678901234567890}');
    await svc.request(1);
    svc.respond(1, REPLY('traj'));
    await pending;
    await svc.server.close();
    const { readFileSync } = await import('node:fs');
    const traj = readFileSync(svc.server.config.trajectoryFile, 'utf8');
    assert.equal(traj, `{"request":{"model":"m","n":12345678901234567890},"response":${REPLY('traj')}}\n`);
  });
});

describe('server: local-mode limits', () => {
  it('gets its 413 to a client that keeps sending its body and reads only afterwards (the close lingers instead of resetting)', async () => {
    const svc = await startTestService({ bodyLimitBytes: 64 * 1024 });
    try {
      const chunk = Buffer.alloc(256 * 1024, 'a');
      const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          new Promise<string>((resolve) => {
            const socket = connect(Number(new URL(svc.url).port), '127.0.0.1');
            let answer = '';
            socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
            socket.on('error', () => {});
            socket.on('close', () => resolve(answer.split('\r\n')[0]!));
            socket.pause();
            socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
            let sent = 0;
            const pump = (): void => {
              if (socket.destroyed || socket.writableEnded) return;
              if (sent++ === 32) return void socket.resume();
              socket.write(framed, () => setImmediate(pump));
            };
            pump();
            setTimeout(() => socket.resume(), 300);
          }),
        ),
      );
      assert.deepEqual(answers, Array(5).fill('HTTP/1.1 413 Payload Too Large'));
      assert.equal(svc.lines().length, 0);
    } finally {
      await svc.close();
    }
  });

  it('answers 504 when the configured timeout passes and drops the waiter', async () => {
    const svc = await startTestService({ requestTimeoutMs: 200 });
    try {
      const res = await svc.chat('{"model":"m","messages":[]}');
      assert.equal(res.status, 504);
      assert.equal((await jsonOf(res)).error.code, 'RMS_TIMEOUT');
      assert.equal(await svc.metric('rock_model_service_pending_waiters'), 0);
    } finally {
      await svc.close();
    }
  });

  it('refuses a body over the limit with 413, writing nothing, and takes one of exactly the limit', async () => {
    const svc = await startTestService({ bodyLimitBytes: 1024 });
    try {
      const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'a'.repeat(4096) }] });
      const res = await svc.chat(big);
      assert.equal(res.status, 413);
      assert.equal((await jsonOf(res)).error.type, 'request_too_large');
      const chunked = await new Promise<number>((resolve, reject) => {
        // No content-length: the limit must also hold for a streamed body.
        const req = httpRequest(`${svc.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(big.slice(0, 2000));
        req.end(big.slice(2000));
      });
      assert.equal(chunked, 413);
      assert.equal(svc.lines().length, 0);
      const exact = JSON.stringify({ model: 'm', pad: 'p'.repeat(1024 - 22) });
      assert.equal(Buffer.byteLength(exact), 1024);
      const accepted = svc.chat(exact);
      assert.equal(await svc.request(1), exact);
      svc.respond(1, '{"ok":true}');
      assert.equal((await accepted).status, 200);
    } finally {
      await svc.close();
    }
  });
});
