/**
 * The public surface is what docs/library.md documents, no more and no less: the names of
 * src/index.ts, the names the built package exports (import and require), and the names the page
 * gives a heading (`### \`name\``) or a row of an `export` table.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { headingsOf, readDoc, ROOT, tablesOf, unquoted } from './markdown.js';
import { exportedNames } from './source-names.js';

/** The names docs/library.md documents as exports. */
function documentedNames(markdown: string): string[] {
  const fromHeadings = headingsOf(markdown)
    .filter((h) => h.level === 3)
    .flatMap((h) => /^`([A-Za-z_$][\w$]*)`$/.exec(h.text)?.[1] ?? []);
  const fromTables = tablesOf(markdown)
    .filter((t) => t.header[0] === 'export')
    .flatMap((t) => t.rows.map((row) => unquoted(row[0]!)));
  return [...fromHeadings, ...fromTables];
}

const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe('the public surface (src/index.ts) and docs/library.md', () => {
  const library = readDoc('docs/library.md');
  const documented = documentedNames(library);

  it('documents every export of src/index.ts once, and nothing it does not export', () => {
    const exported = exportedNames('src/index.ts');
    assert.deepEqual(sorted(new Set(documented)), sorted(documented), 'no name is documented twice');
    assert.deepEqual(sorted(documented), sorted(exported));
  });

  it('exports from the built package exactly the values src/index.ts exports, by import and by require', async () => {
    assert.ok(existsSync(new URL('dist/index.js', ROOT)), 'dist/ is built (npm run build)');
    const source = await import('../../src/index.js');
    const imported = await import(new URL('dist/index.mjs', ROOT).href);
    const required = createRequire(import.meta.url)(new URL('dist/index.js', ROOT).pathname) as object;
    assert.deepEqual(sorted(Object.keys(imported)), sorted(Object.keys(source)));
    assert.deepEqual(sorted(Object.keys(required)), sorted(Object.keys(source)));
    const exported = exportedNames('src/index.ts');
    assert.deepEqual(Object.keys(source).filter((name) => !exported.includes(name)), []);
  });
});
