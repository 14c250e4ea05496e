import assert from 'node:assert/strict';
import * as errors from '../../src/errors.js';
import { ERROR_CODES, ModelServiceError, type ErrorCode } from '../../src/errors.js';
import { readDoc, tablesOf, unquoted } from './markdown.js';

type ErrorClass = (abstract new (...args: never[]) => ModelServiceError) & { code?: ErrorCode };

/** The class of each code, from the module that declares them. */
const classOf = new Map<string, string>(
  Object.values(errors as Record<string, unknown>)
    .filter((v): v is ErrorClass => typeof v === 'function' && (v as ErrorClass).code !== undefined)
    .map((cls) => [cls.code!, cls.name]),
);

describe('docs/errors.md', () => {
  const table = tablesOf(readDoc('docs/errors.md')).find((t) => t.header[0] === 'code');
  const rows = new Map((table?.rows ?? []).map((row) => [unquoted(row[0]!), row]));

  it('has the table of codes, one row per code', () => {
    assert.ok(table, 'docs/errors.md has a table whose first column is "code"');
    assert.deepEqual(table.header, ['code', 'class', 'HTTP', 'exit', 'retry', 'when']);
    assert.equal(rows.size, table.rows.length, 'no code is listed twice');
    assert.deepEqual([...rows.keys()].filter((code) => !(code in ERROR_CODES)), [], 'codes in the doc that src/errors.ts does not have');
    assert.deepEqual(Object.keys(ERROR_CODES).filter((code) => !rows.has(code)), [], 'codes of src/errors.ts missing from the doc');
  });

  it('gives each code the class, HTTP status, exit status and retry advice of src/errors.ts', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      const row = rows.get(code);
      if (row === undefined) continue; // reported by the test above
      const [, cls, status, exit, retry, when] = row;
      assert.equal(unquoted(cls!), classOf.get(code), `${code}: class`);
      assert.equal(Number(status), spec.status, `${code}: HTTP status`);
      assert.equal(Number(exit), spec.exit, `${code}: exit status`);
      assert.equal(retry, spec.retry ? 'yes' : 'no', `${code}: retry`);
      assert.ok((when ?? '').length > 20, `${code}: says when it happens`);
    }
  });
});
