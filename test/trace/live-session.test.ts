import assert from 'node:assert/strict';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMeta } from '../../src/protocol/lines.js';
import type { LiveSnapshot } from '../../src/trace/live-session.js';
import { serveLivePage, type LivePageServer } from './support/live-server.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const req = (i: number, text: string): string => `LLM_REQUEST_START{"messages":[{"role":"user","content":"${text}"}]}LLM_REQUEST_END${formatMeta(i, 1_764_000_000_000 + i)}\n`;
const res = (i: number): string => `LLM_RESPONSE_START{"choices":[{"message":{"role":"assistant","content":"a${i}"}}]}LLM_RESPONSE_END${formatMeta(i, 1_764_000_000_500 + i)}\n`;

/** Reads an event stream until `until` appears in it (or 3 s pass). */
async function readEvents(url: string, headers: Record<string, string>, until: string): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 3000);
  let text = '';
  try {
    const reader = (await fetch(url, { headers, signal: controller.signal })).body!.getReader();
    while (!text.includes(until)) text += new TextDecoder().decode((await reader.read()).value);
  } catch {
    // Timed out: the caller's assertion says what was missing.
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return text;
}

describe('trace: the live session routes', () => {
  let dir: string;
  let server: LivePageServer;
  beforeEach(() => (dir = makeTempDir('live')));
  afterEach(async () => {
    await server?.close();
    removeDir(dir);
  });

  it('GET / is the page with its CSP; GET /session the snapshot; the stream starts right after it', async () => {
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, req(1, 'one') + res(1) + req(2, 'two'));
    server = await serveLivePage(log);
    const page = await fetch(server.url);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy')!, /^default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'.*; frame-ancestors 'none'$/);
    assert.match(await page.text(), /<meta http-equiv="Content-Security-Policy"/);
    const snapshot = (await (await fetch(`${server.url}session`)).json()) as LiveSnapshot;
    assert.deepEqual(
      snapshot.turns.map((t) => [t.index, t.status]),
      [
        [1, 'answered'],
        [2, 'waiting'],
      ],
    );
    assert.deepEqual(snapshot.waiting, [{ index: 2, since: 1_764_000_000_002 }]);
    assert.equal(snapshot.state, 'active');
    appendFileSync(log, res(2) + 'SESSION_END\n');
    server.follower.poke();
    const text = await readEvents(`${server.url}session/events?after=${snapshot.cursor}`, {}, '"state":"ended"');
    assert.match(text, /event: turn\ndata: \{"type":"turn","index":2,/);
    assert.match(text, /event: state\ndata: \{"state":"ended","waiting":\[\]/);
    assert.doesNotMatch(text, /"index":1,/, 'nothing the snapshot had');
  });

  it('a client further behind than the ring, or from another session, is told to fetch the snapshot again', async () => {
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, '');
    server = await serveLivePage(log, { ringSize: 2 });
    const { cursor } = (await (await fetch(`${server.url}session`)).json()) as LiveSnapshot;
    appendFileSync(log, req(1, 'a') + res(1) + req(2, 'b') + res(2));
    server.follower.poke();
    assert.match(await readEvents(`${server.url}session/events`, { 'last-event-id': cursor }, 'event: reset'), /event: reset/);
    assert.match(await readEvents(`${server.url}session/events`, { 'last-event-id': 'another.1' }, 'event: reset'), /event: reset/);
  });

  it('starts over when the log is replaced (a new session)', async () => {
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, req(1, 'old') + res(1) + 'SESSION_END\n');
    server = await serveLivePage(log);
    writeFileSync(join(dir, 'new.log'), req(1, 'new'));
    renameSync(join(dir, 'new.log'), log);
    server.follower.poke();
    const snapshot = (await (await fetch(`${server.url}session`)).json()) as LiveSnapshot;
    assert.equal(snapshot.state, 'active');
    assert.deepEqual(
      snapshot.turns.map((t) => t.added[0]!.parts[0]!.text),
      ['new'],
    );
  });
});
