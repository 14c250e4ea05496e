/**
 * The session as terminal text: each request's new messages, then its answer, turn by turn.
 * Agent and runtime text is hostile: control characters (an ANSI escape in a tool result
 * could rewrite the user's screen) and bidirectional overrides are shown escaped, never sent
 * to the terminal.
 */
import type { Message, Part, TraceEvent, Turn, Usage } from './model.js';

export interface TextRenderOptions {
  color: boolean;
  /** Show every line of every message (default: long ones are folded). */
  full?: boolean;
}

/** Lines of one message part shown before it is folded. */
const MAX_LINES = 20;
/** Characters of one line shown before it is cut. */
const MAX_LINE_CHARS = 2000;
/** Characters of the one line that reasoning is folded to. */
const REASONING_CHARS = 100;
const LABEL_WIDTH = 12;

const SGR = {
  bold: '1',
  dim: '2',
  italic: '3',
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  magenta: '35',
  cyan: '36',
} as const;
type Style = keyof typeof SGR;

/**
 * Whether to colour: FORCE_COLOR decides when set (`0` or `false` means no), then NO_COLOR
 * (any non-empty value means no, as no-color.org asks), then whether stdout is a terminal.
 */
export function colorWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY;
}

// C0 (but tab and newline), DEL, C1, line/paragraph separators, bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Returns `text` with every character that could drive a terminal written as an escape. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Returns a duration as `340 ms`, `1.23 s` or `2 min 03 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** Returns the usage as `1200 in (800 cached) / 56 out (20 reasoning)`, or '' when there is none. */
export function formatUsage(usage: Usage | undefined): string {
  if (!usage) return '';
  const parts: string[] = [];
  if (usage.input !== undefined) parts.push(`${usage.input} in${usage.cached ? ` (${usage.cached} cached)` : ''}`);
  if (usage.output !== undefined) parts.push(`${usage.output} out${usage.reasoning ? ` (${usage.reasoning} reasoning)` : ''}`);
  if (parts.length === 0 && usage.total !== undefined) parts.push(`${usage.total} total`);
  return parts.length > 0 ? `tokens ${parts.join(' / ')}` : '';
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23) + 'Z';

/** Renders trace events as text; `render` returns the lines for one event (with their newlines). */
export class TextRenderer {
  readonly #color: boolean;
  readonly #full: boolean;
  #shownDate: string | undefined;

  constructor(options: TextRenderOptions) {
    this.#color = options.color;
    this.#full = options.full === true;
  }

  /** Returns the text for one event ('' for events it does not show). */
  render(event: TraceEvent): string {
    switch (event.type) {
      case 'request':
        return this.#request(event.turn);
      case 'turn':
        return this.#answer(event);
      case 'session_end':
        return `${this.#paint('━━ SESSION_END ━━', 'bold', 'magenta')}\n`;
      case 'skipped':
        return `${this.#paint(`(skipped the line at byte ${event.offset}: ${event.reason})`, 'dim')}\n`;
      case 'reset':
        return `${this.#paint(`━━ the log was ${event.reason}: a new session starts ━━`, 'bold', 'yellow')}\n`;
    }
  }

  #paint(text: string, ...styles: Style[]): string {
    if (!this.#color || styles.length === 0) return text;
    return `\x1b[${styles.map((s) => SGR[s]).join(';')}m${text}\x1b[0m`;
  }

  #request(turn: Turn): string {
    const facts = [turn.endpoint];
    if (turn.shape !== 'chat') facts.push(`${turn.shape} payload`);
    if (turn.model) facts.push(escapeControls(turn.model));
    if (turn.stream) facts.push('stream');
    if (turn.requestedAt !== undefined) {
      const date = new Date(turn.requestedAt).toISOString().slice(0, 10);
      facts.push(date === this.#shownDate ? clock(turn.requestedAt) : `${date} ${clock(turn.requestedAt)}`);
      this.#shownDate = date;
    }
    const { messages, kept, dropped, continues } = turn.context;
    if (continues !== undefined) {
      facts.push(dropped > 0 ? `context rewritten: keeps ${kept} of #${continues}'s messages, drops ${dropped}` : `continues #${continues} (${kept} messages)`);
    } else if (messages > 0 && turn.added.length === messages && turn.index > 1) {
      facts.push('new conversation');
    }
    let out = `${this.#paint(`━━ #${turn.index}`, 'bold')} ${this.#paint(facts.join(' · '), 'dim')}\n`;
    if (turn.system !== undefined) out += this.#block('system', turn.system, 'magenta');
    if (turn.tools !== undefined) out += this.#block('tools', turn.tools.join(', ') || '(none)', 'dim');
    for (const message of turn.added) out += this.#message(message);
    if (turn.error !== undefined && turn.status === 'waiting') out += this.#block('error', turn.error, 'red');
    return out;
  }

  #answer(turn: Turn): string {
    const facts: string[] = [];
    if (turn.status === 'unanswered') facts.push('no answer in the log');
    else if (turn.status === 'waiting') facts.push('waiting');
    else if (turn.latencyMs !== undefined) facts.push(`${turn.status === 'failed' ? 'failed after' : 'answered in'} ${formatDuration(turn.latencyMs)}`);
    else facts.push(turn.status === 'failed' ? 'failed' : 'answered');
    if (turn.statusCode !== undefined) facts.push(`HTTP ${turn.statusCode}`);
    const usage = formatUsage(turn.usage);
    if (usage) facts.push(usage);
    if (turn.answer?.finish) facts.push(escapeControls(turn.answer.finish));
    const colour: Style = turn.status === 'failed' || turn.status === 'unanswered' ? 'red' : 'cyan';
    let out = `${this.#paint(`◀━ #${turn.index}`, 'bold', colour)} ${this.#paint(facts.join(' · '), turn.status === 'answered' ? 'dim' : colour)}\n`;
    if (turn.error !== undefined) out += this.#block('error', turn.error, 'red');
    for (const part of turn.answer?.parts ?? []) out += this.#part('assistant', part);
    return out;
  }

  #message(message: Message): string {
    let out = '';
    for (const part of message.parts) out += this.#part(message.role, part);
    if (message.parts.length === 0) out += this.#block(message.role, '(empty)', 'dim');
    return out;
  }

  #part(role: string, part: Part): string {
    const ids = [part.name, part.id].filter((x) => x !== undefined).join(' · ');
    switch (part.type) {
      case 'reasoning':
        return this.#block('reasoning', this.#full ? part.text : foldToLine(part.text), 'dim', 'italic');
      case 'tool_call':
        return this.#block('tool call', `${ids}\n${part.text}`, 'blue');
      case 'tool_result':
        return this.#block(part.error ? 'tool error' : 'tool result', ids ? `${ids}\n${part.text}` : part.text, part.error ? 'red' : 'yellow');
      default:
        return this.#block(role, part.text, roleStyle(role));
    }
  }

  /** A label in the left column and the text beside it, continuation lines indented under it. */
  #block(label: string, text: string, ...styles: Style[]): string {
    const lines = escapeControls(text).split('\n');
    const shown = this.#full ? lines : lines.slice(0, MAX_LINES);
    const indent = ' '.repeat(LABEL_WIDTH + 2);
    let out = '';
    shown.forEach((line, i) => {
      const cut = !this.#full && line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}${this.#paint(` ⋯ ${line.length - MAX_LINE_CHARS} more characters`, 'dim')}` : line;
      const head = i === 0 ? `  ${this.#paint(escapeControls(label).padEnd(LABEL_WIDTH), ...styles)}` : indent;
      out += `${head}${cut}\n`;
    });
    if (shown.length < lines.length) out += `${indent}${this.#paint(`⋯ ${lines.length - shown.length} more lines (--full shows everything)`, 'dim')}\n`;
    return out;
  }
}

function roleStyle(role: string): Style {
  if (role === 'user') return 'green';
  if (role === 'assistant') return 'cyan';
  if (role === 'tool') return 'yellow';
  if (role === 'system' || role === 'developer') return 'magenta';
  return 'bold';
}

/** Reasoning folded to one line: whitespace collapsed, cut, with its full length. */
export function foldToLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= REASONING_CHARS ? line : `${line.slice(0, REASONING_CHARS)}… (${text.length} chars)`;
}
