import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compactJson, decodeUtf8, parseJsonText } from '../../src/protocol/index.js';
import { InvalidJsonError, InvalidUtf8Error } from '../../src/errors.js';

const MARKERS = ['LLM_REQUEST_START', 'LLM_REQUEST_END', 'LLM_RESPONSE_START', 'LLM_RESPONSE_END', 'SESSION_END'];

describe('protocol: JSON text', () => {
  it('removes insignificant whitespace but keeps whitespace inside strings', () => {
    assert.equal(compactJson('{ "a" : [ 1 , 2 ] ,\n\t"b" : "x  y\\n" }\r\n'), '{"a":[1,2],"b":"x  y\\n"}');
  });

  it('keeps a 19-digit integer, number spellings and key order byte for byte', () => {
    const text = '{"z": 1234567890123456789, "a": 1.50, "m": 1E+2, "n": -0}';
    assert.equal(compactJson(text), '{"z":1234567890123456789,"a":1.50,"m":1E+2,"n":-0}');
  });

  it('keeps escapes as written, including escaped quotes and backslashes before quotes', () => {
    const text = '{"q": "say \\"hi\\"", "b": "ends with \\\\", "u": "\\u00e9\\ud83d\\ude00"}';
    assert.equal(compactJson(text), '{"q":"say \\"hi\\"","b":"ends with \\\\","u":"\\u00e9\\ud83d\\ude00"}');
  });

  it('keeps non-ASCII text unescaped', () => {
    assert.equal(compactJson('{"t": "日本語 ✓ café"}'), '{"t":"日本語 ✓ café"}');
  });

  for (const marker of MARKERS) {
    it(`escapes ${marker} inside strings so no reader can take it for a marker`, () => {
      const out = compactJson(JSON.stringify({ content: `before ${marker} after`, [marker]: marker }));
      for (const m of MARKERS) assert.ok(!out.includes(m), `${m} survived in ${out}`);
      assert.deepEqual(JSON.parse(out), { content: `before ${marker} after`, [marker]: marker });
    });
  }

  it('refuses invalid JSON and says where it broke', () => {
    assert.throws(
      () => compactJson('{"a": 1,\n "b": }'),
      (err: unknown) =>
        err instanceof InvalidJsonError &&
        err.code === 'RMS_INVALID_JSON' &&
        err.position === 15 &&
        /line 2, column 7/.test(err.message),
    );
  });

  it('refuses empty text with a message that says so', () => {
    assert.throws(() => compactJson('  '), (err: unknown) => err instanceof InvalidJsonError && /empty/.test(err.message));
  });

  it('refuses trailing garbage after a value', () => {
    assert.throws(() => compactJson('{"a":1} x'), InvalidJsonError);
  });

  it('returns the parsed value beside the compact text', () => {
    const parsed = parseJsonText('{"stream": true, "n": 1}');
    assert.deepEqual(parsed.value, { stream: true, n: 1 });
    assert.equal(parsed.compact, '{"stream":true,"n":1}');
  });

  it('round-trips arbitrary JSON values with markers injected into strings', () => {
    const markerish = fc.oneof(fc.string(), fc.constantFrom(...MARKERS).map((m) => ` ${m} `), fc.constant('\\'), fc.constant('"'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        markerish,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(markerish, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 4 }), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        const out = compactJson(text);
        assert.deepEqual(JSON.parse(out), JSON.parse(text));
        assert.ok(!out.includes('\n'));
        for (const m of MARKERS) assert.ok(!out.includes(m));
        assert.equal(out, compactJson(out), 'compacting is idempotent');
      }),
      { numRuns: 300 },
    );
  });
});

describe('protocol: UTF-8', () => {
  it('decodes valid UTF-8', () => {
    assert.equal(decodeUtf8(Buffer.from('héllo ✓ 😀')), 'héllo ✓ 😀');
  });

  for (const [name, bytes, at] of [
    ['a stray continuation byte', [0x61, 0x80], 1],
    ['an overlong encoding', [0x61, 0x62, 0xc0, 0xaf], 2],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], 0],
    ['a truncated sequence', [0x61, 0xe2, 0x82], 1],
  ] as const) {
    it(`refuses ${name} and names the offset`, () => {
      assert.throws(
        () => decodeUtf8(Uint8Array.from(bytes)),
        (err: unknown) => err instanceof InvalidUtf8Error && err.message.includes(`offset ${at}`),
      );
    });
  }
});

describe('protocol: JSON error positions', () => {
  for (const [text, position] of [
    ['{not json', 1],
    ['[1,2', 4],
    ['{"a":1}x', 7],
    ['{"a":\n 01}', 8],
    ['"\\x"', 1],
    ['{"a":"tab\there"}', 9],
    ['[1,]', 3],
    ['nul', 0],
  ] as const) {
    it(`places the error in ${JSON.stringify(text)} at character ${position}`, () => {
      assert.throws(() => compactJson(text), (err: unknown) => err instanceof InvalidJsonError && err.position === position);
    });
  }
});

describe('protocol: hostile JSON', () => {
  it('accepts deep nesting that JSON.parse accepts and refuses unbalanced deep nesting with a position', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    assert.equal(compactJson(deep), deep);
    assert.throws(() => compactJson('['.repeat(100_000)), InvalidJsonError);
  });
});
