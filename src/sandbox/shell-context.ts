/**
 * Where in the shell grammar each `${name}` placeholder of a command template stands. A value
 * is substituted shell-quoted (`'...'`), which is one literal word only where the shell reads
 * quotes: unquoted, or inside a `$(...)` (which starts afresh). Inside double quotes the single
 * quotes are literal and `$(...)` in the value runs; inside single quotes the value ends the
 * quote; in a comment a newline in the value starts a command; in a here-document the quotes
 * are literal and `$(...)` runs; after a backslash the first quote is escaped.
 */

/** Where a placeholder stands; `undefined` is a place where a quoted value is one literal word. */
export type ShellContext =
  | 'single quotes'
  | 'double quotes'
  | "a $'...' string"
  | 'backquotes'
  | 'a ${...} expansion'
  | 'a comment'
  | 'a here-document'
  | 'after a backslash';

export interface PlaceholderPlace {
  name: string;
  /** Offset of its `$` in the template. */
  offset: number;
  context: ShellContext | undefined;
}

type Frame =
  | { kind: 'single' | 'double' | 'ansi' | 'backtick' | 'comment' }
  | { kind: 'subst'; parens: number }
  | { kind: 'param'; braces: number };

const CONTEXT_OF: Record<Frame['kind'], ShellContext | undefined> = {
  single: 'single quotes',
  double: 'double quotes',
  ansi: "a $'...' string",
  backtick: 'backquotes',
  comment: 'a comment',
  param: 'a ${...} expansion',
  subst: undefined,
};

const PLACEHOLDER = /^\$\{([^}]*)\}/;
/** Characters after which a `#` starts a comment (a word begins). */
const WORD_BREAK = /[\s;&|()<>]/;
const HEREDOC = /^<<(-?)[ \t]*(?:'([^']*)'|"([^"]*)"|\\?([^\s;&|()<>'"]+))/;

/**
 * Reads `template` as bash would, far enough to know the context of every placeholder.
 * @returns each placeholder with its context, and what is left open at the end (`a " quote`), if anything.
 */
export function placeholderPlaces(template: string): { places: PlaceholderPlace[]; unterminated: string | undefined } {
  const places: PlaceholderPlace[] = [];
  const stack: Frame[] = [];
  const heredocs: { delimiter: string; stripTabs: boolean }[] = [];
  const top = (): Frame | undefined => stack.at(-1);
  const inCode = (): boolean => {
    const kind = top()?.kind;
    return kind === undefined || kind === 'subst';
  };
  let i = 0;
  /** Takes a template token at `i` (`$${` or `${name}`); returns whether there was one. */
  const templateToken = (context: ShellContext | undefined): boolean => {
    if (template.startsWith('$${', i)) {
      i += 3;
      return true;
    }
    const m = PLACEHOLDER.exec(template.slice(i, i + 256));
    if (!m) return false;
    places.push({ name: m[1]!, offset: i, context });
    i += m[0].length;
    return true;
  };

  while (i < template.length) {
    const frame = top();
    const kind = frame?.kind;
    const c = template[i]!;
    if (kind === 'single') {
      if (templateToken('single quotes')) continue;
      if (c === "'") stack.pop();
      i++;
      continue;
    }
    if (kind === 'comment') {
      if (templateToken('a comment')) continue;
      if (c === '\n') {
        stack.pop();
        continue;
      }
      i++;
      continue;
    }
    if (kind === 'ansi' || kind === 'backtick') {
      if (templateToken(CONTEXT_OF[kind])) continue;
      if (c === '\\') i += 2;
      else {
        if ((kind === 'ansi' && c === "'") || (kind === 'backtick' && c === '`')) stack.pop();
        i++;
      }
      continue;
    }
    // Unquoted code, a $(...), a "..." or a ${...} expansion.
    if (c === '\\') {
      i++;
      if (!templateToken('after a backslash')) i++;
      continue;
    }
    if (template.startsWith('$${', i)) {
      stack.push({ kind: 'param', braces: 1 });
      i += 3;
      continue;
    }
    if (templateToken(kind === undefined || kind === 'subst' ? undefined : CONTEXT_OF[kind])) continue;
    if (template.startsWith('$(', i)) {
      stack.push({ kind: 'subst', parens: 1 });
      i += 2;
      continue;
    }
    if (c === '`') {
      stack.push({ kind: 'backtick' });
      i++;
      continue;
    }
    if (kind === 'double') {
      if (c === '"') stack.pop();
      i++;
      continue;
    }
    if (frame?.kind === 'param') {
      if (c === '{') frame.braces++;
      else if (c === '}' && --frame.braces === 0) stack.pop();
      i++;
      continue;
    }
    // Unquoted code or a $(...).
    if (c === "'") stack.push({ kind: 'single' });
    else if (c === '"') stack.push({ kind: 'double' });
    else if (template.startsWith("$'", i)) {
      stack.push({ kind: 'ansi' });
      i++;
    } else if (c === '#' && (i === 0 || WORD_BREAK.test(template[i - 1]!))) stack.push({ kind: 'comment' });
    else if (frame?.kind === 'subst' && c === '(') frame.parens++;
    else if (frame?.kind === 'subst' && c === ')' && --frame.parens === 0) stack.pop();
    else if (c === '<' && template.startsWith('<<', i) && !template.startsWith('<<<', i)) {
      const m = HEREDOC.exec(template.slice(i));
      if (m) {
        heredocs.push({ delimiter: m[2] ?? m[3] ?? m[4]!, stripTabs: m[1] === '-' });
        i += m[0].length;
        continue;
      }
    } else if (c === '\n' && heredocs.length > 0 && inCode()) {
      i = skipHeredocBodies(template, i + 1, heredocs.splice(0), places);
      continue;
    }
    i++;
  }
  const open = top();
  return { places, unterminated: open === undefined || open.kind === 'comment' ? undefined : UNTERMINATED[open.kind] };
}

const UNTERMINATED: Record<Exclude<Frame['kind'], 'comment'>, string> = {
  single: "a ' quote",
  double: 'a " quote',
  ansi: "a $' quote",
  backtick: 'a ` quote',
  subst: 'a $( substitution',
  param: 'a $${ expansion',
};

/** Reads here-document bodies from `start`, noting their placeholders. @returns the offset after the last delimiter line. */
function skipHeredocBodies(
  template: string,
  start: number,
  heredocs: { delimiter: string; stripTabs: boolean }[],
  places: PlaceholderPlace[],
): number {
  let at = start;
  for (const { delimiter, stripTabs } of heredocs) {
    while (at < template.length) {
      const end = template.indexOf('\n', at);
      const lineEnd = end === -1 ? template.length : end;
      const line = template.slice(at, lineEnd);
      if ((stripTabs ? line.replace(/^\t+/, '') : line) === delimiter) {
        at = lineEnd + 1;
        break;
      }
      for (const m of line.matchAll(/\$\$\{|\$\{([^}]*)\}/g)) {
        if (m[1] !== undefined) places.push({ name: m[1], offset: at + m.index, context: 'a here-document' });
      }
      at = lineEnd + 1;
    }
  }
  return at;
}
