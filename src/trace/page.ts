/**
 * The trace page: one self-contained HTML document (style and script inline, nothing loaded
 * from anywhere), either with the turns inside it (`trace --html`) or fetching them from the
 * service that serves it (the live page). A strict Content-Security-Policy allows exactly
 * the page's own script and style by hash: even if some text escaped its text node, no
 * injected script, handler, style or network request could run.
 */
import { createHash } from 'node:crypto';
import { PAGE_JS } from './page-script.js';
import { PAGE_CSS } from './page-style.js';

export type PageMode = 'file' | 'live';

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Returns the page's Content-Security-Policy (also worth sending as a header by a server that serves the page). */
export function pageCsp(mode: PageMode): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(PAGE_JS)}`,
    `style-src ${sha256(PAGE_CSS)}`,
    `connect-src ${mode === 'live' ? "'self'" : "'none'"}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * Returns `value` as JSON that is safe inside a `<script type="application/json">` element:
 * `<` is written `\u003c`, so no `</script>` or `<!--` in the data can end or bend the element.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function head(mode: PageMode, title: string, source: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(pageCsp(mode))}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head><body>',
    '<header class="top"><div class="row">',
    `<h1>${escapeHtml(title)}</h1><span id="state"></span><span id="stats"></span></div>`,
    '<div class="row"><input id="search" type="search" placeholder="search messages, tools, answers (press /)" autocomplete="off" spellcheck="false" aria-label="search"><span id="count"></span></div>',
    '<svg id="timeline" role="img" aria-label="latency per turn"></svg><div id="tip"></div>',
    '</header><div id="waiting"></div><main id="turns"></main>',
    `<script type="application/json" id="trace-config">${jsonForScript({ mode, title, source })}</script>`,
  ].join('\n');
}

const tail = (): string => `\n<script>${PAGE_JS}</script>\n</body></html>\n`;

/** Returns the live page (`GET /`): it loads `session` and follows `session/events`, relative to its own URL. */
export function livePageHtml(title = 'rock model-service: live session'): string {
  return `${head('live', title, 'live')}${tail()}`;
}

/**
 * Writes a file page turn by turn, so that a session of any size never has to be held whole:
 * `start()`, then `turn()` for each turn (any order: the page sorts them), then `end()`.
 */
export class HtmlPageWriter {
  #first = true;

  /** Returns the page up to the opening of its data block. */
  start(title: string, source: string): string {
    return `${head('file', title, source)}\n<script type="application/json" id="trace-data">{"turns":[`;
  }

  /** Returns one turn's JSON for the data block. */
  turn(turn: unknown): string {
    const text = (this.#first ? '' : ',\n') + jsonForScript(turn);
    this.#first = false;
    return text;
  }

  /** Returns the rest of the page: the session state and the script. */
  end(state: { ended: boolean; endedAt?: number; skipped: number }): string {
    const rest = jsonForScript({ state: state.ended ? 'ended' : 'active', skipped: state.skipped, ...(state.endedAt !== undefined ? { endedAt: state.endedAt } : {}) });
    return `],${rest.slice(1)}</script>${tail()}`;
  }
}
