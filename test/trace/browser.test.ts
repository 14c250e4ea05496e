import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatMeta } from '../../src/protocol/lines.js';
import { launchChromium, type Browser, type BrowserPage } from '../helpers/chromium.js';
import { requireBuiltCli, runCli } from '../helpers/cli.js';
import { writeAgentSession } from './support/agent-session.js';
import { ModelClient } from '../../src/client/model-client.js';
import { startTestService } from '../helpers/service.js';
import { serveLivePage, type LivePageServer } from './support/live-server.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { chatCompletion } from '../helpers/chat-completion.js';

const T = 1_764_000_000_000;
const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '</script><script>window.__pwned = "breakout"</script>',
  '<!-- <script>window.__pwned = "comment"</script>',
  '<svg onload="window.__pwned = \'svg\'"></svg>',
  '\u2028\u2029 ${window.__pwned = "template"}',
];
const reqLine = (payload: object, index: number, ts: number, endpoint?: string): string =>
  `LLM_REQUEST_START${JSON.stringify(payload)}LLM_REQUEST_END${formatMeta(index, ts, endpoint)}\n`;
const resLine = (payload: object, index: number, ts: number): string => `LLM_RESPONSE_START${JSON.stringify(payload)}LLM_RESPONSE_END${formatMeta(index, ts)}\n`;
const answer = (message: object): object => chatCompletion(message, 'stop', { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });

/** A session of `turns` turns whose every text field carries hostile markup; turn 7 says "zebracorn". */
function hostileLog(turns: number): string {
  let text = '';
  const history: object[] = [{ role: 'system', content: `system ${HOSTILE[0]}` }];
  for (let i = 1; i <= turns; i++) {
    const evil = HOSTILE[i % HOSTILE.length]!;
    history.push({ role: 'user', content: `turn ${i} ${i === 7 ? 'zebracorn ' : ''}${evil}\n${'long line\n'.repeat(i % 3 === 0 ? 40 : 1)}` });
    text += reqLine({ model: `model ${evil}`, messages: history, tools: [{ type: 'function', function: { name: `tool${evil}` } }] }, i, T + i * 1000, i % 2 ? undefined : '/v1/messages');
    const reply = { role: 'assistant', content: `answer ${i} ${evil}`, reasoning_content: `thinking ${evil}`, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: `fn${evil}`, arguments: JSON.stringify({ html: evil }) } }] };
    text += resLine(i === 5 ? { error: { message: `runtime error ${evil}` } } : answer(reply), i, T + i * 1000 + 100 * i);
    history.push(reply, { role: 'tool', tool_call_id: `c${i}`, content: `result ${evil}` });
  }
  return text;
}

interface Watched {
  page: BrowserPage;
  errors: string[];
  requests: string[];
}

async function openPage(browser: Browser, url: string): Promise<Watched> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn') errors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** Scrolls the page top to bottom; returns every turn index rendered on the way, and the text of those turns. */
async function scrollThrough(page: BrowserPage): Promise<{ indices: number[]; text: string }> {
  return page.evaluate(`(async () => {
    const seen = new Set();
    const texts = new Map();
    window.scrollTo(0, 0);
    for (let guard = 0; guard < 20000; guard++) {
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      document.querySelectorAll('article.turn').forEach((a) => { seen.add(Number(a.dataset.index)); texts.set(a.dataset.index, a.textContent); });
      if (window.scrollY + innerHeight >= document.documentElement.scrollHeight - 2) break;
      window.scrollBy(0, innerHeight * 0.8);
    }
    return { indices: [...seen].sort((a, b) => a - b), text: [...texts.values()].join('\\n') };
  })()`);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('trace pages in a real browser (headless Chromium)', function () {
  this.timeout(180_000);
  let browser: Browser;
  let dir: string;

  before(async function () {
    requireBuiltCli();
    browser = await launchChromium();
  });
  after(async () => browser?.close());
  beforeEach(() => (dir = makeTempDir('trace-page')));
  afterEach(() => removeDir(dir));

  it('the --html page renders every turn, runs no hostile content, logs no errors, loads nothing, and its search works', async () => {
    const log = join(dir, 'LLMService.log');
    writeFileSync(log, `${hostileLog(60)}SESSION_END\n`);
    const html = join(dir, 'trace.html');
    const cli = await runCli(['model-service', 'trace', '--html', html, log]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stderr, /wrote .*trace\.html: 60 turns, SESSION_END/);
    const source = readFileSync(html, 'utf8');
    assert.ok(!source.includes('</script><script>window'), 'the data cannot close its script element');

    const { page, errors, requests } = await openPage(browser, pathToFileURL(html).href);
    const { indices, text } = await scrollThrough(page);
    assert.deepEqual(indices, range(60));
    assert.equal(await page.evaluate('window.__pwned'), undefined, 'no hostile content ran');
    for (const evil of HOSTILE) assert.ok(text.includes(evil), `shown as text: ${evil}`);
    assert.equal(await page.evaluate('document.querySelectorAll("main img, main svg, main iframe").length'), 0, 'no element came from the data');
    assert.match(await page.evaluate<string>('document.body.innerText'), /SESSION_END/);
    assert.match(text, /runtime error/);

    await page.evaluate('window.scrollTo(0, 0)');
    await page.type('#search', 'ZEBRACORN');
    await page.waitForFunction('document.getElementById("count").textContent.includes("match")', { timeout: 5000 });
    assert.equal(await page.evaluate('document.getElementById("count").textContent'), '1 of 60 turns match');
    assert.deepEqual(await page.evaluate('[...document.querySelectorAll("article.turn")].map((a) => Number(a.dataset.index))'), [7]);
    assert.equal(await page.evaluate('document.querySelector("article.turn mark").textContent'), 'zebracorn');
    await page.evaluate('(() => { const s = document.getElementById("search"); s.value = ""; s.dispatchEvent(new Event("input")); })()');
    await page.waitForFunction('document.getElementById("count").textContent === ""', { timeout: 5000 });

    assert.deepEqual(errors, [], 'no console errors (a CSP violation would be one)');
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'the page loads nothing from the network');
    await page.close();
  });

  it('a page of 10 000 turns opens at once and keeps only the turns near the viewport in the DOM', async () => {
    const log = join(dir, 'LLMService.log');
    writeAgentSession(log, { turns: 10_000, toolOutputBytes: 600, compactAt: 8000 });
    const html = join(dir, 'big.html');
    const cli = await runCli(['model-service', 'trace', '--html', html, log], { timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const started = Date.now();
    const { page, errors } = await openPage(browser, pathToFileURL(html).href);
    await page.waitForFunction('document.querySelector("article.turn") !== null', { timeout: 10_000 });
    const openMs = Date.now() - started;
    const inDom = await page.evaluate<number>('document.querySelectorAll("article.turn").length');
    assert.ok(inDom > 0 && inDom < 100, `${inDom} turns in the DOM`);
    assert.ok(openMs < 8000, `opened in ${openMs} ms`);

    // The timeline jumps: a click at its right end shows the last turns.
    const box = await page.evaluate<{ x: number; y: number; w: number; h: number }>('(() => { const r = document.getElementById("timeline").getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; })()');
    await page.evaluate(`document.getElementById("timeline").dispatchEvent(new MouseEvent("click", { clientX: ${box.x + box.w - 1}, clientY: ${box.y + box.h / 2}, bubbles: true }))`);
    await page.waitForFunction('[...document.querySelectorAll("article.turn")].some((a) => a.dataset.index === "10000")', { timeout: 5000 });
    assert.ok((await page.evaluate<number>('document.querySelectorAll("article.turn").length')) < 100);
    const heapMiB = (await page.metrics()).JSHeapUsedSize! / 2 ** 20;
    console.log(`      10 000 turns: HTML ${(readFileSync(html).length / 2 ** 20).toFixed(1)} MiB, first turn shown after ${openMs} ms, ${inDom} turns in the DOM, JS heap ${heapMiB.toFixed(0)} MiB`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  describe('the live page', () => {
    let server: LivePageServer;
    afterEach(async () => server?.close());

    it('shows the session, a call waiting with its age, the turn the runtime answers while it is open, and the session end', async () => {
      const log = join(dir, 'LLMService.log');
      writeFileSync(log, hostileLog(4));
      server = await serveLivePage(log, { heartbeatMs: 200 });
      const { page, errors, requests } = await openPage(browser, server.url);
      await page.waitForFunction('document.querySelectorAll("article.turn").length === 4', { timeout: 5000 });
      assert.equal(await page.evaluate('document.getElementById("state").textContent'), 'live');

      const now = Date.now();
      appendFileSync(log, reqLine({ model: 'm', messages: [{ role: 'user', content: `live question ${HOSTILE[1]}` }] }, 5, now, '/v1/responses'));
      await page.waitForFunction('document.getElementById("waiting").textContent.includes("#5 for")', { timeout: 5000 });
      await page.waitForFunction('document.querySelector("article.turn.waiting") !== null', { timeout: 5000 });
      assert.match(await page.evaluate<string>('document.querySelector("article.turn.waiting").innerText'), /live question <img src=x onerror=/);

      appendFileSync(log, resLine(answer({ role: 'assistant', content: `live answer ${HOSTILE[2]}` }), 5, now + 1234));
      await page.waitForFunction('document.body.innerText.includes("live answer")', { timeout: 5000 });
      assert.equal(await page.evaluate('document.getElementById("waiting").textContent'), '');
      assert.match(await page.evaluate<string>('document.querySelector("article.turn[data-index=\\"5\\"]").innerText'), /answered in 1\.23 s/);

      appendFileSync(log, 'SESSION_END\n');
      await page.waitForFunction('document.getElementById("state").textContent === "session ended"', { timeout: 5000 });
      assert.equal(await page.evaluate('window.__pwned'), undefined);
      assert.deepEqual(errors, []);
      assert.ok(requests.every((u) => u.startsWith(server.url)), `only its own origin: ${requests.join(', ')}`);
      await page.close();
    });

    it('is served by the real service with --live-page: an agent call shows up waiting, then answered by the runtime', async () => {
      const svc = await startTestService({ livePage: true });
      const client = new ModelClient({ logFile: svc.logFile });
      try {
        const { page, errors, requests } = await openPage(browser, `${svc.url}/`);
        await page.waitForFunction('document.getElementById("state").textContent === "live"', { timeout: 5000 });
        const call = svc.chat(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `from the agent ${HOSTILE[0]}` }] }));
        await page.waitForFunction('document.querySelector("article.turn.waiting") !== null', { timeout: 5000 });
        assert.match(await page.evaluate<string>('document.querySelector("article.turn.waiting").innerText'), /from the agent <script>/);
        await client.antiCallLlm(0);
        void client.antiCallLlm(1, JSON.stringify(answer({ role: 'assistant', content: `runtime says ${HOSTILE[4]}` }))).catch(() => undefined);
        assert.equal((await call).status, 200);
        await page.waitForFunction('document.body.innerText.includes("runtime says")', { timeout: 5000 });
        assert.equal(await page.evaluate('window.__pwned'), undefined);
        assert.deepEqual(errors, []);
        assert.ok(requests.every((u) => u.startsWith(svc.url)), `only its own origin: ${requests.join(', ')}`);
        await page.close();
      } finally {
        client.close();
        await svc.close();
      }
    });

    it('is not served unless the service was started with it: conversations are private', async () => {
      const svc = await startTestService();
      try {
        for (const path of ['/', '/session', '/session/events']) assert.equal((await fetch(`${svc.url}${path}`)).status, 404, path);
      } finally {
        await svc.close();
      }
    });

    it('a page that reconnects catches up on what it missed', async () => {
      const log = join(dir, 'LLMService.log');
      writeFileSync(log, hostileLog(2));
      server = await serveLivePage(log);
      const snapshot = (await (await fetch(`${server.url}session`)).json()) as { cursor: string; turns: unknown[] };
      assert.equal(snapshot.turns.length, 2);
      appendFileSync(log, reqLine({ messages: [{ role: 'user', content: 'missed' }] }, 3, Date.now()));
      server.follower.poke();
      const controller = new AbortController();
      const res = await fetch(`${server.url}session/events?after=${encodeURIComponent(snapshot.cursor)}`, { signal: controller.signal });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('event: state')) text += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      assert.match(text, /event: request\ndata: \{"type":"request","turn":\{"type":"turn","index":3,/);
      const stale = await fetch(`${server.url}session/events`, { headers: { 'last-event-id': 'other.5' }, signal: AbortSignal.timeout(2000) });
      const first = new TextDecoder().decode((await stale.body!.getReader().read()).value);
      assert.match(first, /retry: 2000/);
    });
  });
});
