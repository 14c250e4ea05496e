/** Every relative link of the docs reaches a file, and every #anchor a heading of it (GitHub's slugs). */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { headingsOf, readDoc, ROOT } from './markdown.js';

const DOCS = ['README.md', 'examples/README.md', ...readdirSync(new URL('docs/', ROOT)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped (but `-` and `_`), spaces as `-`. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The links of `markdown` outside fenced blocks and code spans: `[text](target)`. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe('the links of the docs', () => {
  for (const doc of DOCS) {
    it(`${doc}: every relative link and anchor resolves`, () => {
      const broken: string[] = [];
      for (const link of linksOf(readDoc(doc))) {
        if (/^[a-z]+:/.test(link)) continue;
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path === '' ? doc : normalize(join(dirname(doc), path));
        if (!existsSync(new URL(target, ROOT))) {
          broken.push(`${link} (no ${target})`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !headingsOf(readDoc(target)).some((h) => slug(h.text) === anchor)) {
          broken.push(`${link} (no heading #${anchor} in ${target})`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});
