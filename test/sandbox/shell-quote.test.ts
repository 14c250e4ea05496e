import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { shellQuote } from '../../src/sandbox/shell-quote.js';

/** What bash hands a program for each quoted word: one `printf` call, words split on NUL. */
function throughBash(values: string[]): string[] {
  const script = `printf '%s\\0' ${values.map(shellQuote).join(' ')}`;
  const result = spawnSync('bash', ['-c', script], { encoding: 'buffer' });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout.toString('utf8').split('\0').slice(0, -1);
}

const HOSTILE = [
  `it's "quoted" 'twice'`,
  '$(touch /tmp/rock-pwned) and `touch /tmp/rock-pwned`',
  'line one\nline two\r\n\ttabbed',
  'back\\slash \\n \\\\ and a trailing \\',
  '${HOME} $HOME $$ $? $! !! ~ * ? [a-z] {a,b} ; | & > < #',
  "'",
  "''''",
  '',
  'héllo wörld 你好 🎉 \u2028\u2029',
  '{"choices":[{"message":{"content":"say \\"SESSION_END\\" $(id)"}}]}',
];

describe('shellQuote', () => {
  it('leaves words of safe characters bare', () => {
    assert.equal(shellQuote('rock-model-service@0.1.0'), 'rock-model-service@0.1.0');
    assert.equal(shellQuote('/data/logs/model_service.log'), '/data/logs/model_service.log');
    assert.equal(shellQuote('42'), '42');
  });

  it("writes an embedded single quote as '\\''", () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });

  it('quotes the empty string so it stays one argument', () => {
    assert.equal(shellQuote(''), `''`);
  });

  it('delivers quotes, $(), backticks, newlines, backslashes and non-ASCII byte for byte', () => {
    assert.deepEqual(throughBash(HOSTILE), HOSTILE);
  });

  it('delivers any string without NUL byte for byte (generated)', () => {
    const noNul = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(noNul, { minLength: 1, maxLength: 40 }), (values) => {
        assert.deepEqual(throughBash(values), values);
      }),
      { numRuns: 40 },
    );
  });
});
