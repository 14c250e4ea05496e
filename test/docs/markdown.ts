/**
 * Just enough Markdown for the docs tests: the tables and fenced blocks of a file, each with the
 * heading it stands under. The docs are ours, so the subset they use is the subset read here.
 */
import { readFileSync } from 'node:fs';

export const ROOT = new URL('../../', import.meta.url);

/** Returns the text of `path`, relative to the repository root. */
export function readDoc(path: string): string {
  return readFileSync(new URL(path, ROOT), 'utf8');
}

export interface Table {
  /** The nearest heading above the table, without its `#`s. */
  heading: string;
  header: string[];
  rows: string[][];
}

/** Splits a table row into its cells (an escaped `\|` stays inside its cell). */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}

/** Returns every table of `markdown` outside fenced blocks. */
export function tablesOf(markdown: string): Table[] {
  const tables: Table[] = [];
  let heading = '';
  let fenced = false;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const title = /^#{1,6} (.*)$/.exec(line);
    if (title) heading = title[1]!;
    if (line.startsWith('|') && /^\|[\s:|-]+\|$/.test(lines[i + 1]?.trim() ?? '')) {
      const table: Table = { heading, header: cells(line), rows: [] };
      for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) table.rows.push(cells(lines[i]!));
      tables.push(table);
      i--;
    }
  }
  return tables;
}

export interface Heading {
  level: number;
  text: string;
}

/** Returns every heading of `markdown` outside fenced blocks. */
export function headingsOf(markdown: string): Heading[] {
  const headings: Heading[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const title = fenced ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (title) headings.push({ level: title[1]!.length, text: title[2]! });
  }
  return headings;
}

/** Returns the text of a cell without its backticks: `` `RMS_X` `` → `RMS_X`. */
export function unquoted(cell: string): string {
  return cell.replace(/^`(.*)`$/, '$1');
}
