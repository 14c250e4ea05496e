/**
 * Finds where a text stops being JSON (RFC 8259), with a short reason. Used only after
 * JSON.parse has refused the text, whose messages do not always carry a position.
 */
export function locateJsonError(text: string): { position: number; reason: string } {
  let i = 0;
  const fail = (reason: string): never => {
    throw { position: i, reason };
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (what: string) => {
    if (!text.startsWith(what, i)) fail(i >= text.length ? `unexpected end, expected ${JSON.stringify(what)}` : `expected ${JSON.stringify(what)}`);
    i += what.length;
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail('control character in a string (escape it)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('bad escape in a string');
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected character');
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 2_000) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a property name in double quotes');
        string();
        ws();
        expect(':');
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail(i >= text.length ? 'unexpected end, expected "," or "}"' : 'expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail(i >= text.length ? 'unexpected end, expected "," or "]"' : 'expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (c === 't') return expect('true');
    if (c === 'f') return expect('false');
    if (c === 'n') return expect('null');
    if (c === undefined) fail('unexpected end of the text');
    number();
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('unexpected text after the JSON value');
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'position' in err) return err as { position: number; reason: string };
    return { position: i, reason: 'not valid JSON' };
  }
  return { position: text.length, reason: 'not valid JSON' };
}
