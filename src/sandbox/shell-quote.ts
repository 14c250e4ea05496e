/** Characters that never need quoting in a POSIX shell word (the set Python's shlex.quote leaves bare). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes `value` as one POSIX shell word that reaches the program byte for byte: quotes, `$()`,
 * backticks, backslashes, newlines and non-ASCII text included.
 * @returns `value` unchanged when it is made only of safe characters, else `'...'` with each
 * embedded `'` written as `'\''`.
 */
export function shellQuote(value: string): string {
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
