/**
 * The examples of the docs are files under examples/library/, shown whole in the docs with what
 * they print. Each is run against the built package (`rock-model-service` resolves to dist/ from
 * inside the repository), and both the shown code and the shown output must be what is real.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readDoc, ROOT } from './markdown.js';

const DOCS = ['docs/library.md', 'docs/sandbox-sdk.md'];
const EXAMPLES = 'examples/library/';

interface Shown {
  doc: string;
  kind: 'example' | 'output';
  path: string;
  body: string;
}

/** Every `<!-- example: PATH -->` and `<!-- output: PATH -->` comment with the fenced block right after it. */
function shownBlocks(doc: string): Shown[] {
  const text = readDoc(doc);
  const found: Shown[] = [];
  for (const match of text.matchAll(/<!-- (example|output): (\S+) -->\n```\w*\n([\s\S]*?)^```$/gm)) {
    found.push({ doc, kind: match[1] as Shown['kind'], path: match[2]!, body: match[3]! });
  }
  const markers = text.match(/<!-- (example|output): /g)?.length ?? 0;
  assert.equal(found.length, markers, `${doc}: every example or output comment is followed by a fenced block`);
  return found;
}

const run = promisify(execFile);

describe('the examples of the docs', function () {
  // A sandbox session starts and stops a service: seconds on a loaded machine.
  this.timeout(60_000);
  const shown = DOCS.flatMap(shownBlocks);
  const files = readdirSync(new URL(EXAMPLES, ROOT)).filter((name) => name.endsWith('.mjs')).map((name) => EXAMPLES + name);

  it('shows every file of examples/library/ once, with its output, and no other file', () => {
    const examples = shown.filter((s) => s.kind === 'example').map((s) => s.path);
    assert.deepEqual([...examples].sort(), [...files].sort());
    assert.deepEqual(shown.filter((s) => s.kind === 'output').map((s) => s.path).sort(), [...files].sort());
  });

  it('shows each example exactly as its file is', () => {
    for (const { doc, path, body } of shown.filter((s) => s.kind === 'example')) {
      assert.equal(body, readFileSync(new URL(path, ROOT), 'utf8'), `${doc} shows ${path} as it is`);
    }
  });

  for (const file of files) {
    it(`${file} prints what the docs show`, async () => {
      assert.ok(existsSync(new URL('dist/index.js', ROOT)), 'dist/ is built (npm run build)');
      const expected = shown.find((s) => s.kind === 'output' && s.path === file);
      const { stdout, stderr } = await run(process.execPath, [fileURLToPath(new URL(file, ROOT))], { cwd: fileURLToPath(ROOT), timeout: 50_000 });
      assert.equal(stderr, '', `${file} writes nothing to stderr`);
      assert.equal(stdout, expected?.body);
    });
  }
});
