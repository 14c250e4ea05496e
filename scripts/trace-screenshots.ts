// Makes docs/trace-terminal.png, docs/trace-html.png and docs/trace-live.png from one demo
// session: the terminal picture is the real coloured output of `rock model-service trace`
// (FORCE_COLOR=1), its SGR codes turned into styled spans and screenshotted; the page picture is
// `trace --html` itself; the live picture is a real service started with the live page, an agent
// and a runtime taking the same turns through it, and the last call left waiting.
// Run after `npm run build`: npx tsx scripts/trace-screenshots.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelClient } from '../src/client/model-client.js';
import { formatMeta } from '../src/protocol/lines.js';
import { startServer } from '../src/server/start.js';
import { launchChromium } from '../test/helpers/chromium.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'rms-shots-'));
const start = Date.UTC(2026, 10, 26, 9, 30, 0);

const system = { role: 'system', content: 'You are a coding agent working in /repo. Use the tools; keep answers short.' };
const tools = [
  { type: 'function', function: { name: 'bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } } },
  { type: 'function', function: { name: 'edit_file', parameters: { type: 'object' } } },
];
const steps: { reply: object; result?: string; usage: [number, number]; ms: number }[] = [
  {
    reply: { role: 'assistant', content: null, reasoning_content: 'The user says the date test fails. First run the suite to see the failure before touching anything.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'bash', arguments: '{"command":"npm test -- --grep parseDate"}' } }] },
    result: '  parseDate\n    1) keeps the time zone\n\n  1 failing\n\n  AssertionError: expected 2026-11-26T08:00:00.000Z to equal 2026-11-26T09:00:00.000Z\n      at Context.<anonymous> (test/date.test.ts:14:12)',
    usage: [812, 64],
    ms: 1840,
  },
  {
    reply: { role: 'assistant', content: null, tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'bash', arguments: '{"command":"sed -n 1,20p src/date.ts"}' } }] },
    result: "export function parseDate(text: string): Date {\n  const [d, t] = text.split(' ');\n  return new Date(`${d}T${t}Z`);\n}",
    usage: [1043, 38],
    ms: 960,
  },
  {
    reply: {
      role: 'assistant',
      content: 'The parser appends Z, so a local time is read as UTC. I will keep the offset instead.',
      tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'edit_file', arguments: '{"path":"src/date.ts","old":"${d}T${t}Z","new":"${d}T${t}${offset(text)}"}' } }],
    },
    result: 'edited src/date.ts (1 line)',
    usage: [1198, 91],
    ms: 2710,
  },
  {
    reply: { role: 'assistant', content: null, tool_calls: [{ id: 'call_4', type: 'function', function: { name: 'bash', arguments: '{"command":"npm test"}' } }] },
    result: '  42 passing (1s)',
    usage: [1310, 22],
    ms: 740,
  },
  { reply: { role: 'assistant', content: 'Fixed: parseDate keeps the offset it is given; all 42 tests pass.' }, usage: [1355, 19], ms: 1120 },
];

let log = '';
const history: object[] = [system, { role: 'user', content: 'The parseDate test fails since the last release. Fix it.' }];
let clock = start;
steps.forEach((step, i) => {
  const index = i + 1;
  log += `LLM_REQUEST_START${JSON.stringify({ model: 'qwen3-coder', messages: history, tools })}LLM_REQUEST_END${formatMeta(index, clock)}\n`;
  clock += step.ms;
  const answer = { id: `chatcmpl-${index}`, object: 'chat.completion', choices: [{ index: 0, message: step.reply, finish_reason: step.result ? 'tool_calls' : 'stop' }], usage: { prompt_tokens: step.usage[0], completion_tokens: step.usage[1], total_tokens: step.usage[0] + step.usage[1] } };
  log += `LLM_RESPONSE_START${JSON.stringify(answer)}LLM_RESPONSE_END${formatMeta(index, clock)}\n`;
  clock += 900;
  const { reasoning_content: _dropped, ...echoed } = step.reply as { reasoning_content?: string };
  history.push(echoed);
  if (step.result) history.push({ role: 'tool', tool_call_id: `call_${index}`, content: step.result });
});
log += 'SESSION_END\n';
const logFile = join(dir, 'LLMService.log');
writeFileSync(logFile, log);

const rock = (args: string[], env: NodeJS.ProcessEnv = {}): string => execFileSync(process.execPath, [join(root, 'bin/rock.js'), 'model-service', 'trace', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

const SGR: Record<string, string> = { '1': 'font-weight:bold', '2': 'opacity:.62', '3': 'font-style:italic', '31': 'color:#f87171', '32': 'color:#4ade80', '33': 'color:#facc15', '34': 'color:#93c5fd', '35': 'color:#e879f9', '36': 'color:#22d3ee' };
const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function ansiToHtml(text: string): string {
  let html = '';
  let open = false;
  for (const piece of text.split(/(\x1b\[[0-9;]*m)/)) {
    const sgr = /^\x1b\[([0-9;]*)m$/.exec(piece);
    if (!sgr) {
      html += escapeHtml(piece);
      continue;
    }
    if (open) html += '</span>';
    const styles = sgr[1]!.split(';').map((code) => SGR[code]).filter(Boolean);
    open = styles.length > 0;
    if (open) html += `<span style="${styles.join(';')}">`;
  }
  return html + (open ? '</span>' : '');
}

const terminal = rock([logFile], { FORCE_COLOR: '1' });
const terminalPage = `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#0f1117">
<div style="margin:16px;border-radius:8px;background:#161a23;box-shadow:0 4px 24px #0008;overflow:hidden">
<div style="padding:8px 12px;background:#262b36;color:#9ca3af;font:12px system-ui">$ rock model-service trace /data/logs/LLMService.log</div>
<pre style="margin:0;padding:12px 16px;color:#e5e7eb;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace">${ansiToHtml(terminal)}</pre></div></body>`;
const htmlFile = join(dir, 'trace.html');
rock(['--html', htmlFile, logFile]);

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 980, height: 300, deviceScaleFactor: 1 });
  await page.setContent(terminalPage, { waitUntil: 'load' });
  await page.screenshot({ path: join(root, 'docs/trace-terminal.png'), fullPage: true });
  await page.setViewport({ width: 1200, height: 900, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
  await page.evaluate('document.getElementById("timeline").dispatchEvent(new MouseEvent("mousemove", { clientX: 430, clientY: 120, bubbles: true }))');
  await page.screenshot({ path: join(root, 'docs/trace-html.png') });
  await screenshotLivePage(page);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log('wrote docs/trace-terminal.png, docs/trace-html.png and docs/trace-live.png');

/** The live page of a running service: the demo's first turns answered, the last call waiting. */
async function screenshotLivePage(page: Awaited<ReturnType<Awaited<ReturnType<typeof launchChromium>>['newPage']>>): Promise<void> {
  const service = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'live'), livePage: true, logLevel: 'warn' });
  const runtime = new ModelClient({ logFile: service.config.logFile });
  const conversation: object[] = [system, { role: 'user', content: 'The parseDate test fails since the last release. Fix it.' }];
  const call = (): Promise<Response> =>
    fetch(`${service.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-coder', messages: conversation, tools }) });
  try {
    await page.goto(`${service.url}/`, { waitUntil: 'load' });
    let pending = call();
    await runtime.antiCallLlm(0);
    const answered = steps.slice(0, 3);
    for (const [i, step] of answered.entries()) {
      const answer = { id: `chatcmpl-${i + 1}`, object: 'chat.completion', choices: [{ index: 0, message: step.reply, finish_reason: 'tool_calls' }], usage: { prompt_tokens: step.usage[0], completion_tokens: step.usage[1], total_tokens: step.usage[0] + step.usage[1] } };
      const next = runtime.antiCallLlm(i + 1, JSON.stringify(answer)).catch(() => undefined);
      await (await pending).text();
      const { reasoning_content: _dropped, ...echoed } = step.reply as { reasoning_content?: string };
      conversation.push(echoed, { role: 'tool', tool_call_id: `call_${i + 1}`, content: step.result });
      pending = call();
      await next;
    }
    await page.waitForFunction('document.querySelector("article.turn.waiting") !== null', { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await page.screenshot({ path: join(root, 'docs/trace-live.png') });
    void pending.catch(() => undefined);
  } finally {
    runtime.close();
    await service.close();
  }
}
