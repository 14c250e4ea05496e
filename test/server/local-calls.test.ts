import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { startTestService, type TestService } from '../helpers/service.js';
import { completionText } from '../helpers/chat-completion.js';

const REPLY = (text: string): string => completionText({ content: text });
const BODY = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jsonOf = (res: Response): Promise<any> => res.json();

/** Sends a chat call over its own connection and resolves with the first `bytes` of the answer, then cuts the connection. */
function openStream(url: string, body: string): Promise<{ res: IncomingMessage; text: () => string; done: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      const done = new Promise<void>((r) => res.on('end', r).on('close', r));
      resolve({ res, text: () => text, done });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes on a fresh connection; resolves with everything the service answers before it closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('server: one local call, from request to answer', () => {
  let svc: TestService;
  afterEach(async () => svc?.close());

  describe('retries re-attach to the turn their bytes repeat', () => {
    beforeEach(async () => {
      svc = await startTestService();
    });

    /** Sends BODY, leaves once its request line is written, and waits until its turn is kept for a retry. */
    async function leaveTurnOne(): Promise<void> {
      const abort = new AbortController();
      const first = svc.chat(BODY, { signal: abort.signal }).catch((err: Error) => err);
      await svc.request(1);
      abort.abort();
      await first;
      while ((await svc.metric('rock_model_service_orphaned_turns')) !== 1) await sleep(5);
    }

    it('gives a retry of a call whose agent left the response that arrives later, with no second request line', async () => {
      await leaveTurnOne();
      const retry = svc.chat(BODY);
      await sleep(50);
      svc.respond(1, REPLY('answer one'));
      const res = await retry;
      assert.equal(res.status, 200);
      assert.equal((await jsonOf(res)).choices[0].message.content, 'answer one');
      assert.deepEqual(
        svc.lines().map((l) => `${l.kind} ${l.index}`),
        ['request 1', 'response 1'],
      );
      assert.equal(await svc.metric('rock_model_service_abandoned_calls_total'), 1);
      await svc.server.close();
      assert.equal(readFileSync(svc.server.config.trajectoryFile, 'utf8').trim().split('\n').length, 1, 'the trajectory records the turn once');
    });

    it('answers a retry at once when the response is already in the log, even after the session ended', async () => {
      await leaveTurnOne();
      svc.respond(1, REPLY('already here'));
      while ((await svc.metric('rock_model_service_latest_response_index')) !== 1) await sleep(5);
      await fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', body: '{"pid":2147483646}' });
      while (!svc.lines().some((l) => l.kind === 'session_end')) await sleep(5);
      const res = await svc.chat(BODY);
      assert.equal(res.status, 200);
      assert.equal((await jsonOf(res)).choices[0].message.content, 'already here');
    });

    it('makes a call with the same bytes a new turn while the first still waits, and any other call a new turn', async () => {
      const a = svc.chat(BODY);
      await svc.request(1);
      const b = svc.chat(BODY);
      await svc.request(2);
      const c = svc.chat(BODY.replace('hi', 'other'));
      await svc.request(3);
      for (const i of [1, 2, 3]) svc.respond(i, REPLY(`r${i}`));
      assert.deepEqual(await Promise.all([a, b, c].map(async (p) => (await jsonOf(await p)).choices[0].message.content)), ['r1', 'r2', 'r3']);
    });
  });

  describe('with a request timeout', () => {
    beforeEach(async () => {
      svc = await startTestService({ requestTimeoutMs: 150 });
    });

    it('lets a retry of a call answered 504 wait for the same index', async () => {
      const first = await svc.chat(BODY);
      assert.equal(first.status, 504);
      assert.equal(first.headers.get('x-should-retry'), null, 'a timeout may be retried');
      const retry = svc.chat(BODY);
      await sleep(20);
      svc.respond(1, REPLY('late'));
      const res = await retry;
      assert.equal(res.status, 200);
      assert.equal(svc.lines().filter((l) => l.kind === 'request').length, 1);
    });
  });

  describe('answer headers', () => {
    beforeEach(async () => {
      svc = await startTestService({ bodyLimitBytes: 256 });
    });

    it('gives every answer an x-request-id, and x-should-retry: false to what a retry cannot fix', async () => {
      const answers = await Promise.all([
        fetch(`${svc.url}/health`),
        fetch(`${svc.url}/nowhere`),
        svc.chat('{"no json'),
        svc.chat(JSON.stringify({ pad: 'x'.repeat(300) })),
      ]);
      const ids = answers.map((a) => a.headers.get('x-request-id'));
      assert.ok(ids.every((id) => id !== null && /^req_[0-9a-f]{32}$/.test(id)), JSON.stringify(ids));
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual(
        answers.map((a) => [a.status, a.headers.get('x-should-retry')]),
        [
          [200, null],
          [404, 'false'],
          [400, 'false'],
          [413, 'false'],
        ],
      );
    });

    it('answers a known route asked with another method 405 with the methods it takes', async () => {
      const res = await fetch(`${svc.url}/v1/chat/completions`);
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'POST');
      assert.equal((await jsonOf(res)).error.code, 'RMS_METHOD_NOT_ALLOWED');
    });

    it('lets the official client give up at once on a call after the session ended (x-should-retry: false)', async () => {
      await fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', body: '{"pid":2147483646}' });
      while (!svc.lines().some((l) => l.kind === 'session_end')) await sleep(5);
      const client = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'none', maxRetries: 2 });
      const started = Date.now();
      await assert.rejects(client.chat.completions.create({ model: 'm', messages: [] }), (err: { status?: number }) => err.status === 500);
      assert.ok(Date.now() - started < 500, 'no retry backoff');
      assert.equal(await svc.metric('rock_model_service_requests_total{mode="local",route="/v1/chat/completions",status="500"}'), 1);
    });
  });

  describe('streamed calls', () => {
    beforeEach(async () => {
      svc = await startTestService({ heartbeatIntervalMs: 30 });
    });

    it('get their headers at once and a heartbeat while the runtime thinks, then the answer', async () => {
      const stream = await openStream(svc.url, JSON.stringify({ model: 'm', stream: true, messages: [] }));
      assert.equal(stream.res.statusCode, 200);
      assert.match(String(stream.res.headers['content-type']), /^text\/event-stream/);
      await svc.request(1);
      await sleep(120);
      assert.match(stream.text(), /^(: keep-alive\n\n){2,}$/);
      svc.respond(1, REPLY('streamed'));
      await stream.done;
      assert.match(stream.text(), /"content":"streamed"/);
      assert.match(stream.text(), /data: \[DONE\]\n\n$/);
    });

    it('reach the official client through the heartbeats', async () => {
      const client = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const pending = (async () => {
        let text = '';
        for await (const chunk of await client.chat.completions.create({ model: 'm', stream: true, messages: [] })) {
          text += chunk.choices[0]?.delta.content ?? '';
        }
        return text;
      })();
      await svc.request(1);
      await sleep(100);
      svc.respond(1, REPLY('through'));
      assert.equal(await pending, 'through');
    });

    it('get an error that happens after the headers inside the stream, in the API form', async () => {
      const client = new OpenAI({ baseURL: `${svc.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const pending = (async () => {
        for await (const _ of await client.chat.completions.create({ model: 'm', stream: true, messages: [] })) void _;
      })();
      await svc.request(1);
      await fetch(`${svc.url}/v1/agent/watch`, { method: 'POST', body: '{"pid":2147483646}' });
      await assert.rejects(pending, (err: Error) => /session has ended/.test(err.message));
    });
  });

  describe('the HTTP layer', () => {
    beforeEach(async () => {
      svc = await startTestService({ bodyLimitBytes: 1 << 20, bodyTimeoutMs: 200, bodyBudgetBytes: 1 << 20 });
    });

    it('answers what its parser refuses in the OpenAI error shape: 400 for bad framing, 431 for huge headers', async () => {
      const bad = await rawExchange(svc.server.port, 'POST /v1/chat/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n');
      assert.match(bad, /^HTTP\/1.1 400 /);
      assert.equal(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4)).error.code, 'RMS_BAD_HTTP');
      const huge = await rawExchange(svc.server.port, `GET /health HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.match(huge, /^HTTP\/1.1 431 /);
      assert.equal(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4)).error.code, 'RMS_HEADERS_TOO_LARGE');
    });

    it('answers 408 to a body that does not arrive in time, and closes the connection', async () => {
      const answer = await rawExchange(svc.server.port, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"model"');
      assert.match(answer, /^HTTP\/1.1 408 /);
      assert.match(answer, /connection: close/i);
      assert.equal(svc.lines().length, 0);
    });

    it('gives the memory of a body back when its client leaves, so that calls go on', async () => {
      const holders = [0, 1].map(() => {
        const socket = connect(svc.server.port, '127.0.0.1');
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 20}\r\n\r\n${'x'.repeat(600_000)}`);
        return socket;
      });
      await sleep(100);
      for (const socket of holders) socket.destroy();
      await sleep(100);
      const res = svc.chat(JSON.stringify({ model: 'm', pad: 'p'.repeat(900_000) }));
      await svc.request(1);
      svc.respond(1, REPLY('ok'));
      assert.equal((await res).status, 200);
    });
  });
});

describe('server: body budget', () => {
  it('refuses a body that would pass the budget of bodies in flight with 503 and x-request-id', async () => {
    const svc = await startTestService({ bodyLimitBytes: 1 << 20, bodyBudgetBytes: 1 << 20 });
    try {
      const holder = connect(svc.server.port, '127.0.0.1');
      holder.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: ${1 << 20}\r\n\r\n${'x'.repeat(900_000)}`);
      await sleep(100);
      const second = await rawExchange(svc.server.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n${'y'.repeat(500_000)}`);
      holder.destroy();
      assert.match(second, /^HTTP\/1.1 503 /);
      assert.match(second, /x-request-id: req_/);
      assert.equal(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)).error.code, 'RMS_BUSY');
    } finally {
      await svc.close();
    }
  });
});

describe('server: a request timeout past 2^31-1 ms', () => {
  it('lets a call wait for its answer instead of timing out at once (30 days chain shorter timers)', async () => {
    const svc = await startTestService({ requestTimeoutMs: 2_592_000_000 });
    try {
      const pending = svc.chat(BODY);
      await svc.request(1);
      await sleep(50);
      svc.respond(1, REPLY('in time'));
      const res = await pending;
      assert.equal(res.status, 200);
    } finally {
      await svc.close();
    }
  });
});

describe('server: a streamed reply nested 20 000 levels deep', () => {
  it('reaches the agent as the runtime wrote it, in one event, as the plain call would', async () => {
    const svc = await startTestService();
    try {
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      const reply = `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","deep":${deep}},"finish_reason":"stop"}]}`;
      const pending = svc.chat('{"model":"m","stream":true,"messages":[]}');
      await svc.request(1);
      svc.respond(1, reply);
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `data: ${reply}\n\ndata: [DONE]\n\n`);
    } finally {
      await svc.close();
    }
  });
});
