/**
 * docs/cli.md names every command and flag the CLI has (read from the commander program itself)
 * and every ROCK_ variable the sources read.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { buildProgram } from '../../src/cli/program.js';
import { readDoc, ROOT, tablesOf, unquoted } from './markdown.js';

/** The text of `## \`name\`` up to the next `## `. */
function section(markdown: string, name: string): string | undefined {
  const start = markdown.indexOf(`\n## \`${name}\`\n`);
  if (start === -1) return undefined;
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Every `.ts` file under src/, as text. */
function sources(dir = new URL('src/', ROOT)): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(new URL(`${entry.name}/`, dir)) : entry.name.endsWith('.ts') ? [readFileSync(new URL(entry.name, dir), 'utf8')] : [],
  );
}

describe('docs/cli.md', () => {
  const doc = readDoc('docs/cli.md');
  const group = buildProgram([]).commands.find((c) => c.name() === 'model-service')!;

  it('has a section for every command, with each of its flags in its table', () => {
    const commands = group.commands.filter((c) => c.name() !== 'help');
    assert.ok(commands.length >= 6);
    for (const command of commands) {
      const text = section(doc, command.name());
      assert.ok(text, `docs/cli.md has a section "## \`${command.name()}\`"`);
      const flags = command.options.map((o) => o.long!).filter((flag) => flag !== '--help');
      const documented = tablesOf(text)
        .filter((t) => t.header[0] === 'flag')
        .flatMap((t) => t.rows.map((row) => unquoted(row[0]!)));
      if (flags.length > 0) assert.deepEqual([...documented].sort(), [...flags].sort(), `the flags of ${command.name()}`);
      for (const flag of flags) assert.ok(text.split('\n').slice(0, 8).join('\n').includes(flag), `${command.name()}'s synopsis names ${flag}`);
    }
  });

  it('names in its environment table every ROCK_ variable the sources read (env.ROCK_X or a quoted name)', () => {
    const table = tablesOf(doc).find((t) => t.heading === 'Environment');
    assert.ok(table, 'docs/cli.md has an Environment table');
    const documented = table.rows.flatMap((row) => row[0]!.split(',').map((name) => unquoted(name.trim())));
    const read = new Set(sources().flatMap((text) => [...text.matchAll(/(?:env\.|['"`])(ROCK_[A-Z_]+)\b/g)].map((m) => m[1]!)));
    // The prefixes of LocalSandbox's process markers (ROCK_LOCAL_SANDBOX_<id>) are no setting.
    for (const name of [...read].filter((n) => !n.startsWith('ROCK_LOCAL_'))) assert.ok(documented.includes(name), `${name} is documented`);
  });
});
