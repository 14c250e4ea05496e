/**
 * Issue 14, degradation 4: values nested far deeper than JSON.stringify can recurse. In proxy
 * mode an upstream puts them inside a streamed delta: the client must get the bytes unchanged
 * and the call must still leave its record (the deep event left out and said so); before, the
 * recorder overflowed and the call was silently not recorded. In local mode the runtime answers
 * a streamed call with such a reply: the agent must get it as written (one event), not a 500.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { health } from '../support/agent.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { postAndRead } from '../support/http-client.js';
import { eventually, tempDir } from '../support/project.js';
import { readRecording } from '../support/recording.js';
import { openServiceSession } from '../support/service-session.js';
import { startServiceProcess } from '../support/service-process.js';
import { startUpstream } from '../support/upstream.js';

export interface DeepValuesParams {
  /** Nesting depths tried, each in both modes. */
  depths: number[];
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Runs the scenario; returns its figures (lost = calls whose answer or record went missing). */
export async function deepValues(params: DeepValuesParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const measured: Record<string, string | number> = {};
  let lost = 0;
  let calls = 0;

  // Proxy mode: the deep value inside a streamed delta.
  const dir = tempDir('deep-proxy');
  const recording = join(dir.path, 'recording.jsonl');
  let upstreamText = '';
  const upstream = await startUpstream((_req, _body, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(upstreamText);
  });
  const proxy = await startServiceProcess({ type: 'proxy', dataDir: dir.path, proxyBaseUrl: upstream.baseUrl, recordingFile: recording, retry: { maxAttempts: 1 } });
  try {
    let recorded = 0;
    for (const depth of params.depths) {
      upstreamText =
        `data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"deep"},"finish_reason":null}]}\n\n` +
        `data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"!","extra":${nested(depth)}},"finish_reason":null}]}\n\n` +
        `data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n`;
      const got = await postAndRead(`${proxy.url}/v1/chat/completions`, '{"model":"m","stream":true,"messages":[]}', { maxMs: 30_000 });
      calls++;
      if (!findings.check(got.status === 200 && got.complete && got.sha256 === sha(upstreamText), `proxy, ${depth} deep: the client got ${got.status}, ${got.bytes} of ${upstreamText.length} bytes`)) lost++;
      const record = await eventually(`the record of the ${depth}-deep delta`, () => readRecording(recording).records[recorded], 10_000).catch(() => undefined);
      if (record) recorded++;
      const truncated = record?.truncated as { reason?: string } | undefined;
      const content = (record?.response as { choices?: { message?: { content?: string } }[] } | undefined)?.choices?.[0]?.message?.content;
      if (!findings.check(record !== undefined, `proxy, ${depth} deep: the call left no record`)) lost++;
      // The record keeps values up to 1 000 levels (the delta's own envelope adds a few).
      else if (depth >= 1000) findings.check(truncated !== undefined && content === 'deep', `proxy, ${depth} deep: the record keeps ${JSON.stringify(content)} and says ${JSON.stringify(truncated)}`);
      else findings.check(truncated === undefined && content === 'deep!', `proxy, ${depth} deep: the record keeps ${JSON.stringify(content)} and says ${JSON.stringify(truncated)}`);
      measured[`proxy delta ${depth} deep`] = `${got.status}, ${got.bytes} B unchanged in ${got.ms.toFixed(0)} ms; record ${record === undefined ? 'missing' : truncated ? 'written, deep event left out and marked' : 'written whole'}`;
    }
    findings.check((await health(proxy.url)) === 200, 'the proxy stopped answering /health');
  } finally {
    await proxy.stop();
    await upstream.close();
    dir.cleanup();
  }

  // Local mode: the runtime's reply nested deep, to a streamed and to a plain call.
  const session = await openServiceSession('deep-local');
  const client = new ModelClient({ logFile: session.log });
  try {
    let index = 1;
    for (const depth of params.depths) {
      const reply = `{"id":"r","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"deep","extra":${nested(depth)}},"finish_reason":"stop"}]}`;
      for (const stream of [true, false]) {
        const pending = postAndRead(`${session.service.url}/v1/chat/completions`, JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: `call ${index}` }] }), { maxMs: 30_000, keepBytes: 2 * reply.length + 4096 });
        await client.popRequest(index, { timeoutMs: 10_000 });
        await client.pushResponse(index, reply);
        const got = await pending;
        calls++;
        index++;
        const text = got.head.toString('utf8');
        // A reply the service can re-serialise streams as chunks; a deeper one goes as written, in one event.
        const asWritten = !stream ? text === reply : depth < 1000 ? text.includes('"content":"deep"') && text.endsWith('data: [DONE]\n\n') : text === `data: ${reply}\n\ndata: [DONE]\n\n`;
        if (!findings.check(got.status === 200 && asWritten, `local, ${depth} deep, ${stream ? 'streamed' : 'plain'}: the agent got ${got.status} ${text.slice(0, 160)}`)) lost++;
        measured[`local reply ${depth} deep, ${stream ? 'streamed' : 'plain'}`] = `${got.status}${asWritten ? (stream && depth < 1000 ? ', as chunks' : ', as written') : ''} in ${got.ms.toFixed(0)} ms`;
      }
    }
    findings.check((await health(session.service.url)) === 200, 'the local service stopped answering /health');
  } finally {
    client.close();
    await session.close();
  }
  return {
    scenario: 'Deep values',
    load: `${calls} calls: a proxied stream and a local reply, streamed and plain, per depth`,
    faults: `values nested ${params.depths.map((d) => d.toLocaleString('en-US')).join(', ')} deep in a streamed delta (proxy) and in the runtime's reply (local)`,
    inputs: 'chat completions, stream true and false',
    lost,
    measured,
    violations: findings.violations,
    seconds: (performance.now() - started) / 1000,
  };
}
