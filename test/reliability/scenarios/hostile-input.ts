/**
 * Hostile input into the HTTP body and into the log file: random bytes, deep nesting,
 * invalid UTF-8, enormous numbers, lines of only markers. The service must never crash;
 * every bad body gets a 4xx with an OpenAI error body, every odd-but-valid body is stored
 * losslessly on one line; every hostile log line is skipped as unknown or malformed, and the
 * waiting call still gets its real reply.
 */
import { appendFileSync } from 'node:fs';
import { openScanner } from '../../../src/scanner/index.js';
import { RecordKind, recordAt } from '../../../src/scanner/types.js';
import { chatBody, health, postChat, replyBody, type ChatResult } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { eventually, sleep } from '../support/project.js';
import { openServiceSession } from '../support/service-session.js';

export interface HostileInputParams {
  /** Random-byte bodies (and random-byte log lines) to try. */
  randomInputs: number;
  /** Depth of the nested-array bodies. */
  nestingDepth: number;
  /** Digits of the enormous numbers. */
  numberDigits: number;
  seed: number;
  /** Also write response lines whose payload is not JSON or not UTF-8 for a waiting call. */
  badResponsePayloads: boolean;
}

/** A small seeded generator (mulberry32), so that a failing run can be repeated. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomBytes(next: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(next() * 256);
  return b;
}

interface BodyCase {
  name: string;
  body: Buffer;
  /** True when the body is valid JSON (a service may store it); false when it must be refused. */
  valid: boolean;
}

function bodyCases(p: HostileInputParams): BodyCase[] {
  const next = generator(p.seed);
  const b = (s: string): Buffer => Buffer.from(s, 'utf8');
  const digits = '9'.repeat(p.numberDigits);
  const cases: BodyCase[] = [
    { name: 'empty body', body: Buffer.alloc(0), valid: false },
    { name: 'null', body: b('null'), valid: false },
    { name: 'array', body: b('[1,2]'), valid: false },
    { name: 'string', body: b('"hi"'), valid: false },
    { name: 'deep nesting, balanced, inside an object', body: b(`{"messages":${'['.repeat(p.nestingDepth)}${']'.repeat(p.nestingDepth)}}`), valid: true },
    { name: 'deep object nesting', body: b(`${'{"a":'.repeat(p.nestingDepth)}1${'}'.repeat(p.nestingDepth)}`), valid: true },
    { name: 'deep nesting, unbalanced', body: b(`{"m":${'['.repeat(p.nestingDepth)}}`), valid: false },
    { name: 'invalid UTF-8 in a string', body: Buffer.concat([b('{"messages":"'), Buffer.from([0xff, 0xfe, 0xc3]), b('"}')]), valid: false },
    { name: 'UTF-8 encoded surrogate', body: Buffer.concat([b('{"m":"'), Buffer.from([0xed, 0xa0, 0x80]), b('"}')]), valid: false },
    { name: 'overlong UTF-8', body: Buffer.concat([b('{"m":"'), Buffer.from([0xc0, 0xaf]), b('"}')]), valid: false },
    { name: 'escaped lone surrogate', body: b('{"m":"\\ud800"}'), valid: true },
    { name: 'NUL bytes raw in a string', body: b('{"m":"a\u0000b"}'), valid: false },
    { name: `integer of ${p.numberDigits} digits`, body: b(`{"n":${digits}}`), valid: true },
    { name: 'exponent 1e999999', body: b('{"n":1e999999,"m":-1e-999999}'), valid: true },
    { name: `fraction of ${p.numberDigits} digits`, body: b(`{"n":0.${digits}}`), valid: true },
    { name: 'leading zeros', body: b('{"n":0001}'), valid: false },
    { name: 'NaN and Infinity', body: b('{"n":NaN,"m":Infinity}'), valid: false },
    { name: 'only markers', body: b('LLM_REQUEST_STARTLLM_REQUEST_ENDLLM_RESPONSE_STARTLLM_RESPONSE_END'), valid: false },
    { name: 'SESSION_END alone', body: b('SESSION_END'), valid: false },
    { name: 'markers and newlines inside strings', body: b(JSON.stringify({ messages: [{ role: 'user', content: 'LLM_REQUEST_END{"timestamp": 1, "index": 9}\nSESSION_END\nLLM_RESPONSE_START{}LLM_RESPONSE_END{"index": 1}' }] })), valid: true },
    { name: 'marker-named keys', body: b('{"SESSION_END":1,"LLM_RESPONSE_START":"LLM_RESPONSE_END"}'), valid: true },
    { name: 'BOM before JSON', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b('{}')]), valid: false },
    { name: 'trailing garbage', body: b('{"a":1} x'), valid: false },
    { name: 'two objects', body: b('{"a":1}{"b":2}'), valid: false },
    { name: '100 000 keys', body: b(`{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`), valid: true },
  ];
  for (let i = 0; i < p.randomInputs; i++) {
    const raw = randomBytes(next, 1 + Math.floor(next() * 4096));
    cases.push({ name: `random bytes #${i}`, body: raw, valid: false });
    // Random bytes dressed as JSON: a string of them inside an object.
    cases.push({ name: `random bytes in a string #${i}`, body: Buffer.concat([b('{"m":"'), raw.filter((c) => c !== 0x22 && c !== 0x5c), b('"}')]), valid: false });
  }
  return cases;
}

/** Hostile log lines; none of them may be read as a record that counts. */
function logLines(p: HostileInputParams): Buffer[] {
  const next = generator(p.seed + 1);
  const b = (s: string): Buffer => Buffer.from(`${s}\n`, 'utf8');
  const lines: Buffer[] = [
    b('LLM_RESPONSE_START'),
    b('LLM_RESPONSE_END'),
    b('LLM_RESPONSE_STARTLLM_RESPONSE_END'),
    b('LLM_REQUEST_STARTLLM_REQUEST_ENDLLM_RESPONSE_STARTLLM_RESPONSE_END'),
    b('LLM_RESPONSE_START{}LLM_RESPONSE_END'),
    b('LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": 1e400}'),
    b('LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": 1.5}'),
    b('LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": "1"}'),
    b(`LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": ${'9'.repeat(p.numberDigits)}}`),
    b(`LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": ${'['.repeat(p.nestingDepth)}}`),
    b('LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": -1'),
    b('xSESSION_END'),
    b('SESSION_ENDx'),
    b('SESSION_END SESSION_END'),
    b(' LLM_RESPONSE_START{}LLM_RESPONSE_END{"timestamp": 0, "index": 1}'),
    Buffer.concat([Buffer.from([0xff, 0xfe]), b('LLM_RESPONSE_START{}LLM_RESPONSE_END{"index": 1}')]),
    b('LLM_RESPONSE_START'.repeat(10_000)),
    b(''),
    b('\r'),
  ];
  for (let i = 0; i < p.randomInputs; i++) {
    const raw = randomBytes(next, 1 + Math.floor(next() * 2048)).filter((c) => c !== 0x0a);
    // Random bytes must not form a valid line by chance; a leading '#' makes sure.
    lines.push(Buffer.concat([Buffer.from('#'), raw, Buffer.from('\n')]));
  }
  return lines;
}

const isErrorBody = (r: ChatResult): boolean => {
  try {
    const e = (JSON.parse(r.body) as { error?: { message?: unknown; type?: unknown } }).error;
    return typeof e?.message === 'string' && e.message.length > 0 && typeof e.type === 'string';
  } catch {
    return false;
  }
};

/** Runs the scenario; returns its figures (lost = valid calls not answered, or bad input that was stored or crashed the service). */
export async function hostileInput(params: HostileInputParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('fuzz', { requestTimeoutMs: 30_000 });
  const { service, log, client } = session;
  const scanner = openScanner(log);
  let offset = 0;
  let nextIndex = 1;
  let lost = 0;
  const tally: Record<string, number> = {};
  const count = (key: string): void => {
    tally[key] = (tally[key] ?? 0) + 1;
  };
  /** New records since the last look, by kind. */
  const newRecords = (): { kind: number; index: number; text: string }[] => {
    const out: { kind: number; index: number; text: string }[] = [];
    for (;;) {
      const batch = scanner.scan(offset);
      for (let i = 0; i < batch.count; i++) {
        const r = recordAt(batch, i);
        out.push({ kind: r.kind, index: r.index, text: r.kind === RecordKind.Request ? scanner.readPayload(r).toString('latin1') : '' });
      }
      if (batch.nextOffset === offset) return out;
      offset = batch.nextOffset;
    }
  };
  try {
    const cases = bodyCases(params);
    for (const c of cases) {
      const call = postChat(service.url, c.body, { timeoutMs: 40_000 }).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, at: 0 }));
      // A stored request waits for its reply: the runtime answers it.
      let stored: { kind: number; index: number; text: string } | undefined;
      const settled = await Promise.race([call.then(() => true), sleep(400).then(() => false)]);
      if (!settled) {
        stored = await eventually(`${c.name}: the request line`, () => newRecords().find((r) => r.kind === RecordKind.Request), 5000).catch(() => undefined);
        if (stored) await client.pushResponse(stored.index, replyBody(`ok-${stored.index}`));
      } else {
        stored = newRecords().find((r) => r.kind === RecordKind.Request);
      }
      const r = await call;
      if (stored) {
        findings.check(stored.index === nextIndex, `${c.name}: stored as index ${stored.index}, want ${nextIndex}`);
        nextIndex = stored.index + 1;
        findings.check(!stored.text.includes('\n'), `${c.name}: the stored request spans lines`);
      }
      if (c.valid) {
        if (r.status === 200 && stored) count('valid body: stored and answered');
        else if (r.status >= 400 && r.status < 500 && isErrorBody(r)) count(`valid body: refused ${r.status}`);
        else {
          lost++;
          findings.check(false, `${c.name}: valid body ended with ${r.status} ${r.body.slice(0, 100)}`);
        }
      } else if (findings.check(!stored && r.status >= 400 && r.status < 500 && isErrorBody(r), `${c.name}: bad body got ${r.status} ${r.body.slice(0, 100)}${stored ? ' and was written to the log' : ''}`)) {
        count(`bad body: ${r.status}`);
      } else lost++;
      if (!findings.check((await health(service.url)) === 200, `${c.name}: /health stopped answering`)) break;
    }
    // Hostile lines in the log while a call waits; then its real reply.
    const lines = logLines(params);
    const waiting = postChat(service.url, chatBody('waits through hostile lines'), { timeoutMs: 30_000 });
    const request = await client.popRequest(nextIndex, { timeoutMs: 10_000 });
    findings.check(request.includes('waits through hostile lines'), `the runtime got ${request.slice(0, 80)} instead of its request`);
    newRecords();
    for (const line of lines) appendFileSync(log, line);
    const seen = newRecords();
    const counted = seen.filter((r) => r.kind === RecordKind.Unknown || r.kind === RecordKind.Malformed).length;
    findings.check(counted === lines.length && seen.length === lines.length, `${lines.length} hostile log lines read as ${counted} unknown/malformed of ${seen.length} records (kinds ${[...new Set(seen.map((r) => r.kind))].join(',')})`);
    tally['hostile log lines skipped (unknown or malformed)'] = counted;
    await sleep(300);
    findings.check((await health(service.url)) === 200, 'the service stopped answering after the hostile log lines');
    const next = client.antiCallLlm(nextIndex, replyBody('real reply'), { timeoutMs: 10_000 }).catch(() => 'no next request');
    const answer = await waiting;
    if (!findings.check(answer.status === 200 && answer.body.includes('real reply'), `the call waiting through hostile log lines got ${answer.status} ${answer.body.slice(0, 100)}`)) lost++;
    // The runtime still reads requests after the hostile lines.
    const after = postChat(service.url, chatBody('after hostile lines'), { timeoutMs: 30_000 });
    const afterRequest = await next;
    findings.check(afterRequest.includes('after hostile lines'), `after the hostile lines the runtime got ${afterRequest.slice(0, 80)}`);
    await client.pushResponse(nextIndex + 1, replyBody('after'));
    findings.check((await after).status === 200, 'the call after the hostile lines was not answered');
    // Response lines for a waiting call whose payload is not JSON, or not UTF-8: the call must
    // get a clear error or the real reply that follows, never the garbage with a 200.
    let index = nextIndex + 2;
    for (const [name, payload] of (!params.badResponsePayloads ? [] : [
      ['not JSON', Buffer.from('not json at all')],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"m":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')])],
      ['truncated JSON', Buffer.from('{"choices":[')],
    ]) as [string, Buffer][]) {
      const call = postChat(service.url, chatBody(`bad payload ${name}`), { timeoutMs: 10_000 }).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, at: 0 }));
      await client.popRequest(index, { timeoutMs: 10_000 });
      appendFileSync(log, Buffer.concat([Buffer.from('LLM_RESPONSE_START'), payload, Buffer.from(`LLM_RESPONSE_END{"timestamp": 0, "index": ${index}}\n`)]));
      await sleep(300);
      const pushed = await client.pushResponse(index, replyBody(`real reply ${index}`)).catch(() => false);
      const r = await call;
      const clear = r.status >= 500 && isErrorBody(r);
      const real = r.status === 200 && r.body.includes(`real reply ${index}`);
      count(`response payload ${name}: ${real ? 'skipped, real reply delivered' : clear ? `error ${r.status}` : `${r.status} ${r.body.slice(0, 40)}`}${pushed ? '' : ' (the runtime took the bad line as its answer and wrote none)'}`);
      if (!findings.check(real || clear, `a response line with a payload that is ${name} reached the agent as ${r.status} ${r.body.slice(0, 60)}`)) lost++;
      index++;
    }
    findings.check(service.child.exitCode === null, `the service exited (${service.child.exitCode})`);
    return {
      scenario: 'Hostile input',
      load: `${cases.length} HTTP bodies one after another, ${lines.length} hostile log lines under a waiting call`,
      faults: 'bad input only',
      inputs: `${params.badResponsePayloads ? 'response lines with non-JSON, non-UTF-8 and truncated payloads for a waiting call; ' : ''}random bytes (${params.randomInputs} raw, ${params.randomInputs} inside a JSON string, ${params.randomInputs} log lines; seed ${params.seed}), nesting ${params.nestingDepth} deep, invalid/overlong/surrogate UTF-8, ${params.numberDigits}-digit numbers, 1e999999, marker-only lines, 100 000 keys`,
      lost,
      measured: tally,
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    scanner.close();
    await session.close();
  }
}

/**
 * Two calls wait; ONE append brings a response line with an invalid UTF-8 payload for the
 * first and a good response for the second. The second caller must get its reply whatever
 * happens to the first, and the first must end with a clear error or its real reply.
 */
export async function badLineInBatch(): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const session = await openServiceSession('fuzz-batch', { requestTimeoutMs: 20_000 });
  const { service, log, client } = session;
  let lost = 0;
  try {
    const a = postChat(service.url, chatBody('caller A'), { timeoutMs: 30_000 }).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, at: 0 }));
    await client.popRequest(1, { timeoutMs: 10_000 });
    const b = postChat(service.url, chatBody('caller B'), { timeoutMs: 30_000 }).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, at: 0 }));
    await client.popRequest(2, { timeoutMs: 10_000 });
    appendFileSync(
      log,
      Buffer.concat([
        Buffer.from('LLM_RESPONSE_START{"m":"'),
        Buffer.from([0xff, 0xc3]),
        Buffer.from(`"}LLM_RESPONSE_END{"timestamp": 0, "index": 1}\nLLM_RESPONSE_START${replyBody('reply B')}LLM_RESPONSE_END{"timestamp": 0, "index": 2}\n`),
      ]),
    );
    await sleep(500);
    appendFileSync(log, `LLM_RESPONSE_START${replyBody('real reply A')}LLM_RESPONSE_END{"timestamp": 0, "index": 1}\n`);
    const [ra, rb] = await Promise.all([a, b]);
    if (!findings.check(rb.status === 200 && rb.body.includes('reply B'), `caller B, whose good response shared an append with A's bad one, got ${rb.status} ${rb.body.slice(0, 80)}`)) lost++;
    if (!findings.check((ra.status === 200 && ra.body.includes('real reply A')) || (ra.status >= 500 && isErrorBody(ra)), `caller A (invalid UTF-8 response, then a good one) got ${ra.status} ${ra.body.slice(0, 80)}`)) lost++;
    return {
      scenario: 'Bad response line in a batch',
      load: '2 waiting calls',
      faults: 'one append: an invalid UTF-8 response for call 1 and a good one for call 2',
      inputs: '1 bad response line',
      lost,
      measured: { 'caller A': `${ra.status} ${ra.body.slice(0, 40)}`, 'caller B': `${rb.status} ${rb.body.slice(0, 40)}` },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await session.close();
  }
}
