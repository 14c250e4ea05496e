#!/usr/bin/env node
// Runs the benchmarks one after another, each in its own process (so that one's memory and
// JIT state do not colour the next), and prints their tables. Each bench answers one
// question and prints a markdown table stating the Node version, CPU and date.
// Usage: node bench/run.mjs [name ...]   (names as in bench/<name>.mjs; default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const all = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== self).sort();
const wanted = process.argv.slice(2).map((a) => basename(a).replace(/\.mjs$/, '') + '.mjs');
const unknown = wanted.filter((f) => !all.includes(f));
if (unknown.length) {
  console.error(`no such bench: ${unknown.map((f) => f.replace(/\.mjs$/, "")).join(', ')}; available: ${all.map((f) => f.replace(/\.mjs$/, '')).join(', ')}`);
  process.exit(2);
}
if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
  console.error('the benches run the built package (dist/): run `npm run build` first');
  process.exit(2);
}

const failed = [];
for (const file of wanted.length ? wanted : all) {
  console.log(`\n## ${file}\n`);
  const r = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${file} (${r.signal ?? `exit ${r.status}`})`);
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
