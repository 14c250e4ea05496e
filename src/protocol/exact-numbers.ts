import { randomBytes } from 'node:crypto';
import { closingQuote } from './json-text.js';

const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

export interface ExactParse {
  value: unknown;
  /** Puts the original spellings back into JSON that was serialised from (parts of) `value`. */
  restore(serialized: string): string;
}

/**
 * Parses JSON text so that a value rebuilt from it and serialised again keeps every number as
 * written: a number whose spelling JSON.stringify would change (a 19-digit integer, `1.50`, `1E+2`)
 * is parsed as a placeholder string that `restore` turns back into the original token. Node 20's
 * JSON.parse has no access to a number's source text, so this is the only lossless way to reshape
 * a reply (a streamed reply is the message turned into a delta).
 * @throws SyntaxError when `text` is not JSON.
 */
export function parseKeepingNumbers(text: string): ExactParse {
  const tokens: string[] = [];
  const tag = `\u0000rms-number:${randomBytes(6).toString('hex')}:`;
  const parts: string[] = [];
  let copiedUpTo = 0;
  let i = 0;
  while (i < text.length) {
    const quote = text.indexOf('"', i);
    const structuralEnd = quote === -1 ? text.length : quote;
    const segment = text.slice(i, structuralEnd);
    for (const match of segment.matchAll(NUMBER_TOKEN)) {
      const token = match[0];
      if (String(Number(token)) === token) continue;
      const at = i + match.index;
      parts.push(text.slice(copiedUpTo, at), JSON.stringify(tag + tokens.length));
      tokens.push(token);
      copiedUpTo = at + token.length;
    }
    if (quote === -1) break;
    i = closingQuote(text, quote + 1) + 1;
  }
  if (tokens.length === 0) return { value: JSON.parse(text), restore: (serialized) => serialized };
  parts.push(text.slice(copiedUpTo));
  const placeholder = new RegExp(`${JSON.stringify(tag).slice(0, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}(\\d+)"`, 'g');
  return {
    value: JSON.parse(parts.join('')),
    restore: (serialized) => serialized.replace(placeholder, (_, n: string) => tokens[Number(n)]!),
  };
}
