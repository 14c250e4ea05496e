/**
 * Tool-call arguments shown indented, from their text: re-indenting the tokens keeps every
 * number as written (`JSON.stringify(JSON.parse(x), null, 2)` turns a 19-digit id into
 * another number) and every string escape as the model wrote it.
 */
import { closingQuote } from '../protocol/json-text.js';

/** Returns `text` indented by two spaces per level when it is JSON; otherwise the text unchanged. */
export function prettyJson(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '' || (trimmed[0] !== '{' && trimmed[0] !== '[')) return text;
  try {
    JSON.parse(trimmed);
  } catch {
    return text;
  }
  let out = '';
  let depth = 0;
  let i = 0;
  const newline = (): string => `\n${'  '.repeat(depth)}`;
  while (i < trimmed.length) {
    const c = trimmed[i]!;
    if (c === '"') {
      const end = closingQuote(trimmed, i + 1);
      out += trimmed.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      let next = i + 1;
      while (isSpace(trimmed[next])) next++;
      if (trimmed[next] === close) {
        out += c + close;
        i = next + 1;
        continue;
      }
      depth++;
      out += c + newline();
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') {
      out += `,${newline()}`;
    } else if (c === ':') {
      out += ': ';
    } else if (!isSpace(c)) {
      out += c;
    }
    i++;
  }
  return out;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}
