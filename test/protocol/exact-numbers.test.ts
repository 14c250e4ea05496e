import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseKeepingNumbers } from '../../src/protocol/exact-numbers.js';

describe('protocol: numbers kept as written when a reply is reshaped', () => {
  it('gives back the original spelling of numbers JSON.stringify would change, and only those', () => {
    const text = '{"a":12345678901234567890,"b":[1.50,1E+2,3,-0.0,"12345678901234567890"],"c":{"d":0.1}}';
    const parsed = parseKeepingNumbers(text);
    assert.equal(parsed.restore(JSON.stringify(parsed.value)), text);
    assert.equal((parsed.value as { c: { d: number } }).c.d, 0.1);
    assert.equal(parsed.restore(JSON.stringify({ wrapped: parsed.value })), `{"wrapped":${text}}`);
  });

  it('parses plainly when every number survives JSON.stringify', () => {
    const parsed = parseKeepingNumbers('{"a":[1,2.5,-3],"s":"1.50"}');
    assert.deepEqual(parsed.value, { a: [1, 2.5, -3], s: '1.50' });
  });

  it('round-trips any compact JSON text byte for byte, digits inside strings untouched', () => {
    const number = fc.oneof(
      fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.constantFrom('1.50', '1E+2', '-0.0', '0.10', '1e-7'),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        number.map((n) => ({ raw: n })),
        fc.string().map((s) => ({ raw: JSON.stringify(s) })),
        fc.array(tie('node'), { maxLength: 4 }).map((items) => ({ raw: `[${items.map((i) => (i as { raw: string }).raw).join(',')}]` })),
        fc
          .dictionary(fc.string(), tie('node'), { maxKeys: 4 })
          .map((d) => ({ raw: `{${Object.entries(d).map(([k, v]) => `${JSON.stringify(k)}:${(v as { raw: string }).raw}`).join(',')}}` })),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const text = (v as { raw: string }).raw;
        const parsed = parseKeepingNumbers(text);
        assert.equal(parsed.restore(JSON.stringify(parsed.value)), text);
      }),
      { numRuns: 300 },
    );
  });
});
