/** The tables of settings in the docs list every setting the sources take, and nothing else. */
import assert from 'node:assert/strict';
import { CONFIG_FILE_KEYS } from '../../src/config/schema.js';
import { readDoc, tablesOf, unquoted, type Table } from './markdown.js';
import { interfaceFields } from './source-names.js';

function firstColumn(doc: string, heading: string, header: string): string[] {
  const table: Table | undefined = tablesOf(readDoc(doc)).find((t) => t.heading === heading && t.header[0] === header);
  assert.ok(table, `${doc} has a table under "${heading}" whose first column is "${header}"`);
  return table.rows.map((row) => unquoted(row[0]!)).sort();
}

const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('the docs list every setting', () => {
  it('docs/proxy.md: every key of the config file', () => {
    assert.deepEqual(firstColumn('docs/proxy.md', 'The config file', 'key'), [...CONFIG_FILE_KEYS].sort());
  });

  it('docs/library.md: every field of ServiceConfigInput', () => {
    assert.deepEqual(firstColumn('docs/library.md', '`ServiceConfigInput` fields', 'field'), interfaceFields('src/config/resolve.ts', 'ServiceConfigInput').sort());
  });

  it("docs/sandbox-sdk.md: every field of ModelServiceConfig, ROCK 1.0's and runtimeEnvConfig's, each with its snake_case spelling", () => {
    const source = 'src/sandbox/model-service-config.ts';
    const fields = [...interfaceFields(source, 'ModelServiceConfig'), ...interfaceFields(source, 'LegacyModelServiceFields')];
    assert.deepEqual(firstColumn('docs/sandbox-sdk.md', '`ModelServiceConfig`', 'field'), fields.sort());
    assert.deepEqual(firstColumn('docs/sandbox-sdk.md', '`runtimeEnvConfig`', 'field'), interfaceFields(source, 'RuntimeEnvConfig').sort());
    for (const table of tablesOf(readDoc('docs/sandbox-sdk.md')).filter((t) => t.header[1] === 'snake_case')) {
      for (const row of table.rows) assert.equal(unquoted(row[1]!), snakeCase(unquoted(row[0]!)), `${row[0]}'s snake_case spelling`);
    }
  });
});
