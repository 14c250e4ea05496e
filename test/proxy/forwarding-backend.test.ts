import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import {
  COMPLETION,
  ScriptedUpstream,
  chunkEvent,
  eventually,
  firstBytes,
  flood,
  json,
  leavingPost,
  post,
  rawPost,
  recordsOnce,
  startProxy,
  startProxyProcess,
  usageEvent,
  type ProxyProcess,
  type TestProxy,
} from './fixtures.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

describe('proxy forwarding', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('forwards the body bytes unchanged with end-to-end headers, and passes the answer back unchanged', async () => {
    const answer = JSON.stringify(COMPLETION, null, 2);
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, answer, { 'x-request-id': 'req-9' }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl + '/' });
    const body = '{"model":"m",  "messages":[{"role":"user","content":"h\\u00e9"}], "vendor":{"x":1}}';
    const res = await rawPost(proxy, body, {
      'content-type': 'application/json',
      authorization: 'Bearer sk-test',
      'x-custom': 'kept',
      'x-per-hop': 'dropped',
      connection: 'keep-alive, x-per-hop',
      'proxy-authorization': 'Basic secret',
      'keep-alive': 'timeout=5',
      te: 'trailers',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['x-request-id'], 'req-9');
    assert.equal(res.body, answer);
    const [call] = upstream.calls;
    assert.equal(call!.url, '/v1/chat/completions');
    assert.equal(call!.body.toString(), body);
    assert.equal(call!.headers.authorization, 'Bearer sk-test');
    assert.equal(call!.headers['x-custom'], 'kept');
    assert.equal(call!.headers['proxy-authorization'], undefined);
    assert.equal(call!.headers['keep-alive'], undefined);
    assert.equal(call!.headers.te, undefined);
    assert.equal(call!.headers['x-per-hop'], undefined);
    assert.equal(call!.headers.host, `127.0.0.1:${upstream.port}`);
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'success');
    assert.equal(record!.model, 'm');
    assert.equal(record!.stream, false);
    assert.deepEqual(record!.response, COMPLETION);
    assert.deepEqual(record!.request, JSON.parse(body));
    assert.equal(record!.error, null);
    for (const key of ['response_time', 'start_time', 'end_time']) assert.ok(key in record!, key);
  });

  it('routes by proxy_rules[model], then proxy_rules.default, and answers 400 when neither matches', async () => {
    upstream = await ScriptedUpstream.start((call, res) => json(res, 200, { via: JSON.parse(call.body.toString()).model }));
    const other = await ScriptedUpstream.start((_call, res) => json(res, 200, { via: 'default' }));
    try {
      proxy = await startProxy({ proxyRules: { special: upstream.baseUrl, default: other.baseUrl } });
      assert.deepEqual(await (await post(proxy, { model: 'special' })).json(), { via: 'special' });
      assert.deepEqual(await (await post(proxy, { model: 'anything' })).json(), { via: 'default' });
      await proxy.close();
      proxy = await startProxy({ proxyRules: { special: upstream.baseUrl } });
      const res = await post(proxy, { model: 'unknown' });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { message: string; type: string; code: string } };
      assert.match(body.error.message, /no upstream for model "unknown"/);
      assert.equal(body.error.type, 'invalid_request_error');
    } finally {
      await other.close();
    }
  });

  it("keeps a base's query string a query (Azure's ?api-version=): the path goes before it", async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, COMPLETION));
    proxy = await startProxy({ proxyBaseUrl: `${upstream.baseUrl}/openai/deployments/gpt-4o?api-version=2024-06-01` });
    assert.equal((await post(proxy, { model: 'm', messages: [] })).status, 200);
    assert.equal(upstream.calls[0]!.url, '/v1/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01');
  });

  it('answers 400 in the OpenAI error shape to a body that is not a JSON object, and forwards nothing', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, COMPLETION));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    for (const body of ['{"model":', '[1,2]']) {
      const res = await post(proxy, body);
      assert.equal(res.status, 400);
      const parsed = (await res.json()) as { error: { message: string } };
      assert.match(parsed.error.message, /JSON/);
    }
    assert.equal(upstream.calls.length, 0);
  });

  it('retries 429 and 500 answers, then passes the success through and records one line', async () => {
    upstream = await ScriptedUpstream.start((_call, res, n) => {
      if (n === 1) return json(res, 429, { error: { message: 'slow down' } });
      if (n === 2) return json(res, 500, { error: { message: 'oops' } });
      json(res, 200, COMPLETION);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), COMPLETION);
    assert.equal(upstream.calls.length, 3);
    const records = await recordsOnce(proxy, 1);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.status, 'success');
    const metrics = await proxy.metrics();
    assert.match(metrics, /rock_model_service_proxy_retries_total\{reason="429",model="m"\} 1/);
    assert.match(metrics, /rock_model_service_proxy_retries_total\{reason="500",model="m"\} 1/);
    assert.match(metrics, /rock_model_service_proxy_upstream_attempts_total\{outcome="200",model="m"\} 1/);
  });

  it('passes the last answer through unchanged when the retries are exhausted, and records a failure', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 429, '{"error":{"message":"quota","vendor":1}}', { 'retry-after': '1' }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, retry: { maxAttempts: 3 } });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(await res.text(), '{"error":{"message":"quota","vendor":1}}');
    assert.equal(upstream.calls.length, 3);
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
    assert.equal(record!.status_code, 429);
    assert.deepEqual(record!.response, { error: { message: 'quota', vendor: 1 } });
    assert.match(String(record!.error), /429/);
  });

  it("waits as long as a 429 answer's Retry-After asks before the next attempt", async () => {
    const arrivals: number[] = [];
    upstream = await ScriptedUpstream.start((_call, res, n) => {
      arrivals.push(Date.now());
      if (n === 1) return json(res, 429, { error: { message: 'later' } }, { 'retry-after': '0.3' });
      json(res, 200, COMPLETION);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, retry: { maxDelayMs: 5000 } });
    assert.equal((await post(proxy, { model: 'm', messages: [] })).status, 200);
    assert.ok(arrivals[1]! - arrivals[0]! >= 290, `retried after ${arrivals[1]! - arrivals[0]!} ms`);
  });

  it('passes a non-retryable 400 through at once', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 400, { error: { message: 'bad model' } }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: { message: 'bad model' } });
    assert.equal(upstream.calls.length, 1);
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
  });

  it('answers 504 after every attempt stalled past the timeout, and records the failure', async () => {
    upstream = await ScriptedUpstream.start(() => {
      /* never answers */
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, requestTimeoutMs: 150, retry: { maxAttempts: 2 } });
    const started = Date.now();
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 504);
    assert.ok(Date.now() - started >= 300, 'both attempts waited for the timeout');
    const body = (await res.json()) as { error: { message: string; type: string; code: string } };
    assert.match(body.error.message, /sent nothing for 0.15 s; gave up after 2 attempt/);
    assert.equal(body.error.code, 'RMS_TIMEOUT');
    assert.equal(upstream.calls.length, 2);
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
    assert.equal(record!.status_code, 504);
    assert.equal(record!.response, null);
    assert.match(String(record!.error), /sent nothing/);
  });

  it('answers 502 when the upstream cannot be reached after the last attempt', async () => {
    upstream = await ScriptedUpstream.start(() => {});
    const deadUrl = upstream.baseUrl;
    await upstream.close();
    proxy = await startProxy({ proxyBaseUrl: deadUrl, retry: { maxAttempts: 2 } });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: { message: string; code: string } };
    assert.match(body.error.message, /connection to the upstream failed.*ECONNREFUSED/);
    assert.equal(body.error.code, 'RMS_UPSTREAM');
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status_code, 502);
  });

  it('a timeout followed by a success within the attempts is a success', async () => {
    upstream = await ScriptedUpstream.start((_call, res, n) => {
      if (n > 1) json(res, 200, COMPLETION);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, requestTimeoutMs: 100 });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 200);
    assert.match(await proxy.metrics(), /rock_model_service_proxy_retries_total\{reason="timeout",model="m"\} 1/);
  });
});

describe('proxy streaming', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('passes each event on as it arrives, before the upstream has finished', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    upstream = await ScriptedUpstream.start(async (_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent({ role: 'assistant', content: 'first' }));
      await released;
      res.write(chunkEvent({ content: ' second' }, 'stop'));
      res.end('data: [DONE]\n\n');
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', stream: true, messages: [] });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal(first, chunkEvent({ role: 'assistant', content: 'first' }));
    release();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    assert.equal(rest, chunkEvent({ content: ' second' }, 'stop') + 'data: [DONE]\n\n');
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'success');
    assert.equal(record!.stream, true);
    const response = record!.response as { object: string; choices: { message: { content: string }; finish_reason: string }[] };
    assert.equal(response.object, 'chat.completion');
    assert.equal(response.choices[0]!.message.content, 'first second');
    assert.equal(response.choices[0]!.finish_reason, 'stop');
  });

  it('aggregates fragmented parallel tool calls, reasoning_content and usage into the record', async () => {
    const events = [
      chunkEvent({ role: 'assistant', reasoning_content: 'think ' }),
      chunkEvent({ reasoning_content: 'twice' }),
      chunkEvent({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
      chunkEvent({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '' } }] }),
      chunkEvent({ tool_calls: [{ index: 1, function: { arguments: '{"b":2}' } }, { index: 0, function: { arguments: ':1}' } }] }),
      'data: {not json}\n\n',
      chunkEvent({}, 'tool_calls'),
      usageEvent({ prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 }),
      'data: [DONE]\n\n',
    ];
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      for (const e of events) res.write(e);
      res.end();
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', stream: true, messages: [] });
    assert.equal(await res.text(), events.join(''), 'the client gets every byte, the malformed event included');
    const [record] = await recordsOnce(proxy, 1);
    assert.ok((await proxy.logLines()).some((l) => l.skipped === 1 && String(l.msg).includes('left out of the record')));
    assert.equal(record!.status, 'success');
    assert.deepEqual(record!.response, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'policy',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            reasoning_content: 'think twice',
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
              { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{"b":2}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
    });
  });

  it('retries a stream that broke before its first byte reached the client', async () => {
    upstream = await ScriptedUpstream.start((_call, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 1) {
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.write(chunkEvent({ content: 'ok' }, 'stop'));
      res.end('data: [DONE]\n\n');
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', stream: true, messages: [] });
    assert.equal(await res.text(), chunkEvent({ content: 'ok' }, 'stop') + 'data: [DONE]\n\n');
    assert.equal(upstream.calls.length, 2);
  });

  it('on a drop mid-stream gives the client what was sent, ends its connection, and records a failure', async () => {
    const sent = chunkEvent({ role: 'assistant', content: 'partial' });
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sent);
      setTimeout(() => res.socket?.destroy(), 50);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const received = await new Promise<{ text: string; error: string | undefined }>((resolve) => {
      const url = new URL(`${proxy.url}/v1/chat/completions`);
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ text, error: undefined }));
        res.on('error', (err) => resolve({ text, error: err.message }));
      });
      req.end(JSON.stringify({ model: 'm', stream: true, messages: [] }));
    });
    assert.equal(received.text, sent);
    assert.ok(received.error, 'the client sees the connection end before the stream was complete');
    assert.equal(upstream.calls.length, 1, 'a stream that reached the client is not retried');
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
    assert.match(String(record!.error), /after \d+ bytes of the stream/);
    const response = record!.response as { choices: { message: { content: string } }[] };
    assert.equal(response.choices[0]!.message.content, 'partial');
  });

  it('stops the upstream call when the client goes away mid-stream, and records that', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent({ role: 'assistant', content: 'hel' }));
      res.on('close', upstreamClosed);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const req = leavingPost(`${proxy.url}/v1/chat/completions`, { model: 'm', stream: true, messages: [] });
    await firstBytes(req);
    req.destroy();
    await closed;
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
    assert.equal(record!.status_code, 499);
    assert.match(String(record!.error), /client closed the connection/);
    assert.equal((record!.response as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'hel');
  });

  it('does not retry for a client that went away while waiting for the next attempt', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 429, { error: { message: 'later' } }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, retry: { initialDelayMs: 300, maxDelayMs: 300 } });
    const req = leavingPost(`${proxy.url}/v1/chat/completions`, { model: 'm', messages: [] });
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status_code, 499);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(upstream.calls.length, 1);
  });

  it('passes an error answer to a stream request through as it is', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 400, { error: { message: 'no streams today' } }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', stream: true, messages: [] });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: { message: 'no streams today' } });
  });
});

describe('proxy recording', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('writes one whole line per call when many calls finish at once', async () => {
    upstream = await ScriptedUpstream.start((call, res) => json(res, 200, { ...COMPLETION, echo: JSON.parse(call.body.toString()).n, pad: 'x'.repeat(20_000) }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => post(proxy, { model: 'm', n, messages: [{ role: 'user', content: 'y'.repeat(30_000) }] })));
    assert.ok(answers.every((a) => a.status === 200));
    const records = await recordsOnce(proxy, 40);
    assert.equal(records.length, 40);
    assert.deepEqual(
      records.map((r) => (r.request as { n: number }).n).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, n) => n),
    );
  });

  it('records a request whose JSON holds line breaks on one line, as the same JSON', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, JSON.stringify(COMPLETION, null, 2)));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const body = '{\r\n  "model": "m",\n  "messages": [{"role": "user", "content": "line\\nbreak"}]\n}';
    await (await post(proxy, body)).text();
    const [record] = await recordsOnce(proxy, 1);
    assert.deepEqual(record!.request, JSON.parse(body));
    assert.deepEqual(record!.response, COMPLETION);
  });
});

describe('proxy bounds on what an upstream answer may cost', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('answers 502 naming response_limit to an endless plain answer, stops reading it at once, and records what was cut', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.on('close', upstreamClosed);
      flood(res, { 'content-type': 'application/json' }, Buffer.alloc(64 * 1024, 0x20));
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 1024 * 1024 });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('x-should-retry'), 'false');
    const body = (await res.json()) as { error: { message: string; code: string } };
    assert.equal(body.error.code, 'RMS_RESPONSE_TOO_LARGE');
    assert.match(body.error.message, /response_limit \(1048576 bytes\)/);
    await closed;
    assert.equal(upstream.calls.length, 1, 'an answer too large is not asked for again');
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status, 'failure');
    assert.equal(record!.status_code, 502);
    assert.equal(record!.response, null);
    assert.deepEqual(record!.truncated, {
      reason: 'the answer passed response_limit: the client got 502 and the record has no response',
      at_bytes: 1024 * 1024,
      limit_bytes: 1024 * 1024,
    });
    assert.match(await proxy.metrics(), /rock_model_service_proxy_upstream_attempts_total\{outcome="too_large",model="m"\} 1/);
  });

  it('refuses an answer whose declared length passes response_limit without reading its body', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2048) });
      res.write('{"partial":');
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 1024 });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 502);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /declared an answer of 2048 bytes, more than response_limit \(1024 bytes\)/);
  });

  it('passes an answer of exactly response_limit bytes', async () => {
    const answer = JSON.stringify({ ...COMPLETION, pad: '' });
    const padded = answer.replace('"pad":""', `"pad":"${'x'.repeat(4096 - answer.length)}"`);
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, padded));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, responseLimitBytes: 4096 });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.equal(res.status, 200);
    assert.equal((await res.text()).length, 4096);
  });

  it('refuses a response_limit outside 1 KiB-256 MiB at start, naming the key', async () => {
    for (const responseLimitBytes of [1023, 256 * 1024 ** 2 + 1, 1.5]) {
      await assert.rejects(startProxy({ proxyBaseUrl: 'http://127.0.0.1:9/v1', responseLimitBytes }), /response_limit must be a whole number from 1024 to 268435456 bytes/);
    }
  });

  it('stops reading an endless plain answer when its client leaves, and records that', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.on('close', upstreamClosed);
      res.writeHead(200, { 'content-type': 'application/json' });
      // Slow enough to stay under the limit for as long as the test runs.
      const timer = setInterval(() => res.write(' '), 5);
      res.on('close', () => clearInterval(timer));
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const req = leavingPost(`${proxy.url}/v1/chat/completions`, { model: 'm', messages: [] });
    while (upstream.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    await closed;
    const [record] = await recordsOnce(proxy, 1);
    assert.equal(record!.status_code, 499);
    const lines = await proxy.logLines();
    assert.ok(lines.some((l) => l.level === 30 && /client closed its connection/.test(String(l.msg)) && l.model === 'm'), JSON.stringify(lines));
  });
});

describe('proxy: bytes that are not UTF-8', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('refuses a request body that is not UTF-8 with 400 RMS_INVALID_UTF8, as local mode does, and forwards and records nothing', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, COMPLETION));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const body = Buffer.concat([Buffer.from('{"model":"m","messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);
    const res = await fetch(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-should-retry'), 'false');
    const answer = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(answer.error.code, 'RMS_INVALID_UTF8');
    assert.match(answer.error.message, /not valid UTF-8 \(first bad byte at offset 5\d\)/);
    assert.equal(upstream.calls.length, 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await proxy.records(), []);
  });

  it('passes an answer that is not UTF-8 on unchanged and records it as valid UTF-8, saying so', async () => {
    const answer = Buffer.concat([Buffer.from('{"id":"c","choices":[{"message":{"content":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}}],"n":12345678901234567890}')]);
    upstream = await ScriptedUpstream.start((_call, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    const res = await post(proxy, { model: 'm', messages: [] });
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), answer);
    await recordsOnce(proxy, 1);
    const raw = await readFile(proxy.recordingFile);
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(raw), 'the recording is valid UTF-8');
    const text = raw.toString('utf8');
    assert.ok(text.includes('"content":"a\ufffd\ufffdb"'), text);
    assert.ok(text.includes('"n":12345678901234567890'), 'the rest of the answer is recorded byte for byte');
    const [record] = await proxy.records();
    assert.match((record!.truncated as { reason: string }).reason, /not valid UTF-8/);
  });
});

describe('proxy log lines', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('redacts the credentials of the upstream URL in the start line and in every line about an attempt', async () => {
    upstream = await ScriptedUpstream.start((_call, res, n) => (n < 3 ? json(res, 500, { error: { message: 'busy' } }) : json(res, 200, COMPLETION)));
    const base = `http://alice:s3cr3t-pass@127.0.0.1:${upstream.port}/v1`;
    proxy = await startProxy({ proxyBaseUrl: base, proxyRules: { other: `http://bob:rule-secret@127.0.0.1:${upstream.port}/v1?api_key=sk-live-key&region=eu` } });
    assert.equal((await post(proxy, { model: 'm', messages: [] })).status, 200);
    assert.equal(upstream.calls[0]!.headers.authorization, `Basic ${Buffer.from('alice:s3cr3t-pass').toString('base64')}`, 'the upstream still gets them');
    const text = await readFile(join(proxy.dir, 'service.log'), 'utf8');
    for (const secret of ['s3cr3t-pass', 'sk-live-key', 'rule-secret', 'alice', 'bob']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
    const lines = await proxy.logLines();
    const start = lines.find((l) => l.msg === 'proxy mode: forwarding')!;
    assert.equal(start.proxyBaseUrl, `http://***:***@127.0.0.1:${upstream.port}/v1`);
    assert.equal((start.proxyRules as Record<string, string>).other, `http://***:***@127.0.0.1:${upstream.port}/v1?api_key=***&region=eu`);
    const retries = lines.filter((l) => l.msg === 'upstream attempt failed; retrying');
    assert.equal(retries.length, 2);
    for (const line of retries) assert.equal(line.upstream, `http://***:***@127.0.0.1:${upstream.port}/v1/chat/completions`);
  });

  it('says once per event what happened upstream (each failed attempt, giving up), never a body', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 500, { error: { message: 'upstream-body-text' } }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl, retry: { maxAttempts: 3 } });
    const res = await post(proxy, { model: 'm', messages: [{ role: 'user', content: 'request-body-text' }] }, { authorization: 'Bearer sk-client-key' });
    assert.equal(res.status, 500);
    await recordsOnce(proxy, 1);
    const lines = (await proxy.logLines()).filter((l) => l.requestId !== undefined);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.attempt ?? l.attempts]),
      [
        [40, 'upstream attempt failed; retrying', 1],
        [40, 'upstream attempt failed; retrying', 2],
        [40, 'upstream still answered a retryable status on the last attempt; gave up and passed it on', 3],
      ],
    );
    assert.ok(lines.every((l) => l.requestId === lines[0]!.requestId && l.model === 'm'));
    const text = await readFile(join(proxy.dir, 'service.log'), 'utf8');
    for (const secret of ['request-body-text', 'upstream-body-text', 'sk-client-key']) assert.ok(!text.includes(secret), secret);
  });

  it('says when it gave up on an upstream it cannot reach, with the reason', async () => {
    upstream = await ScriptedUpstream.start(() => {});
    const dead = upstream.baseUrl;
    await upstream.close();
    proxy = await startProxy({ proxyBaseUrl: dead, retry: { maxAttempts: 2 } });
    assert.equal((await post(proxy, { model: 'm', messages: [] })).status, 502);
    await recordsOnce(proxy, 1);
    const lines = (await proxy.logLines()).filter((l) => l.requestId !== undefined);
    assert.deepEqual(lines.map((l) => l.msg), ['upstream attempt failed; retrying', 'upstream call failed; gave up']);
    assert.equal(lines[0]!.reason, 'connection_error');
    assert.match(String(lines[0]!.detail), /ECONNREFUSED/);
    assert.match(String(lines[1]!.reason), /ECONNREFUSED/);
  });
});

describe('proxy metrics by model', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  closeAfterEach(() => [proxy, upstream]);

  it('counts the tokens of plain and streamed answers by model, from their usage', async () => {
    upstream = await ScriptedUpstream.start((call, res) => {
      const request = JSON.parse(call.body.toString()) as { model: string; stream?: boolean };
      if (!request.stream) return json(res, 200, { ...COMPLETION, model: request.model });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunkEvent({ role: 'assistant', content: 'hi' }));
      res.write(chunkEvent({}, 'stop', { usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 } }));
      res.end('data: [DONE]\n\n');
    });
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    for (const body of [{ model: 'a' }, { model: 'a' }, { model: 'b', stream: true }]) await (await post(proxy, { ...body, messages: [] })).text();
    await recordsOnce(proxy, 3);
    const metrics = await proxy.metrics();
    for (const [kind, model, n] of [['prompt', 'a', 6], ['completion', 'a', 2], ['total', 'a', 8], ['prompt', 'b', 10], ['completion', 'b', 20], ['total', 'b', 30]] as const) {
      assert.match(metrics, new RegExp(`rock_model_service_proxy_tokens_total\\{kind="${kind}",model="${model}"\\} ${n}\\n`));
    }
    assert.match(metrics, /rock_model_service_proxy_calls_total\{status="200",model="a"\} 2/);
    assert.match(metrics, /rock_model_service_proxy_upstream_seconds_count\{outcome="200",model="b"\} 1/);
  });

  it('ignores usage values that are not token counts (negative, fractional, huge, strings)', async () => {
    const usages = [{ prompt_tokens: -5, completion_tokens: 1.5, total_tokens: 1e300 }, { prompt_tokens: '7', completion_tokens: null }, 'usage', [1, 2]];
    upstream = await ScriptedUpstream.start((_call, res, n) => json(res, 200, { ...COMPLETION, usage: usages[n - 1] }));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    for (let i = 0; i < usages.length; i++) assert.equal((await post(proxy, { model: 'm', messages: [] })).status, 200);
    await recordsOnce(proxy, usages.length);
    assert.doesNotMatch(await proxy.metrics(), /rock_model_service_proxy_tokens_total\{/);
  });

  it('keeps the first 64 model names as labels and counts every later one (and any over 200 characters) as "other"', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => json(res, 200, COMPLETION));
    proxy = await startProxy({ proxyBaseUrl: upstream.baseUrl });
    await (await post(proxy, { model: 'x'.repeat(201), messages: [] })).text();
    for (let i = 0; i < 70; i++) await (await post(proxy, { model: `model-${i}`, messages: [] })).text();
    await (await post(proxy, { model: 'model-3', messages: [] })).text();
    await (await post(proxy, { messages: [] })).text();
    const metrics = await proxy.metrics();
    const labels = new Set([...metrics.matchAll(/rock_model_service_proxy_calls_total\{status="200",model="([^"]*)"\} (\d+)/g)].map((m) => `${m[1]}=${m[2]}`));
    assert.ok(labels.has('model-0=1') && labels.has('model-3=2') && labels.has('model-63=1'), [...labels].join(' '));
    assert.ok(labels.has('other=7'), [...labels].join(' '));
    assert.ok(labels.has('=1'), 'a call without a model has the empty label');
    assert.equal(labels.size, 64 + 2);
  });
});

describe('proxy memory while endless answers pass (the service in its own process)', function () {
  this.timeout(60_000);
  let upstream: ScriptedUpstream;
  let service: ProxyProcess | undefined;

  closeAfterEach(() => [service, upstream]);

  /** Samples the service's RSS every 100 ms until `done` resolves; returns the peak. */
  async function peakRss(done: Promise<unknown>): Promise<number> {
    let peak = service!.rssBytes();
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      peak = Math.max(peak, service!.rssBytes());
      await new Promise((r) => setTimeout(r, 100));
    }
    return peak;
  }

  it('passes an endless stream to its client with flat memory, and records a bounded part of it', async () => {
    const event = Buffer.from(chunkEvent({ content: 'x'.repeat(64 * 1024 - 200) }));
    upstream = await ScriptedUpstream.start((_call, res) => flood(res, { 'content-type': 'text/event-stream' }, event));
    service = await startProxyProcess([`proxy_base_url: ${upstream.baseUrl}`, `record_max_bytes: ${4 * 1024 * 1024}`]);
    const before = service.rssBytes();
    const target = 768 * 1024 * 1024;
    let passed = 0;
    const streamed = new Promise<void>((resolve, reject) => {
      const req = httpRequest(new URL(`${service!.url}/v1/chat/completions`), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.on('data', (chunk: Buffer) => {
          passed += chunk.length;
          if (passed >= target) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (err) => (passed >= target ? undefined : reject(err)));
      req.end(JSON.stringify({ model: 'm', stream: true, messages: [] }));
    });
    const peak = await peakRss(streamed);
    assert.ok(peak - before < 200 * 1024 * 1024, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MiB while ${passed >> 20} MiB passed`);
    const [record] = await eventually(async () => ((await service!.records()).length === 1 ? service!.records() : undefined), 10_000);
    assert.equal(record!.status_code, 499);
    const truncated = record!.truncated as { at_bytes: number; limit_bytes: number };
    assert.equal(truncated.limit_bytes, 4 * 1024 * 1024);
    assert.ok(truncated.at_bytes <= 4 * 1024 * 1024);
    const content = (record!.response as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    assert.ok(content.length > 0 && content.length <= 4 * 1024 * 1024, `${content.length} characters recorded`);
  });

  it('holds no more than response_limit of an endless plain answer, and answers 502', async () => {
    upstream = await ScriptedUpstream.start((_call, res) => flood(res, { 'content-type': 'application/json' }, Buffer.alloc(256 * 1024, 0x20)));
    service = await startProxyProcess([`proxy_base_url: ${upstream.baseUrl}`, `response_limit: ${32 * 1024 * 1024}`]);
    const before = service.rssBytes();
    const answer = fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [] }),
      signal: AbortSignal.timeout(20_000),
    });
    const peak = await peakRss(answer.catch(() => {}));
    const res = await answer;
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RMS_RESPONSE_TOO_LARGE');
    assert.ok(peak - before < (32 + 150) * 1024 * 1024, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MiB`);
  });
});
