#!/usr/bin/env node
// Question: what does installing the package cost a sandbox? The two tarballs of `npm run
// package` installed together into an empty project with a warm npm cache (one untimed install
// first fills it), scripts allowed, audit and fund off: with `--prefer-offline` (npm still asks
// the registry about the unpublished platform package, a 404 it cannot cache) and with
// `--offline` (a sandbox without a registry). Reports the time, the packages npm added, the
// size of node_modules and every warning npm printed; and the standalone executable's size,
// the other way in. Runs `npm run package` when the tarballs are not there. Usage: node bench/install.mjs [runs]   (default 5)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seaExecutablePath } from '../scripts/sea-path.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 5);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tarballs = [join(root, `${pkg.name}-${pkg.version}.tgz`), join(root, `${pkg.name}-linux-x64-gnu-${pkg.version}.tgz`)];
if (tarballs.some((t) => !existsSync(t))) {
  console.error('bench/install: no tarballs yet, running `npm run package` first');
  if (spawnSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error('npm run package failed');
}

function sizeOf(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

function install(mode) {
  const dir = mkdtempSync(join(tmpdir(), 'rms-bench-install-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', private: true }));
    const t0 = performance.now();
    const r = spawnSync('npm', ['install', mode, '--no-audit', '--no-fund', ...tarballs], { cwd: dir, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`npm install failed:\n${r.stderr}`);
    const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^npm warn/i.test(l));
    // One warning can take several lines, each prefixed with its code; the first one says what it is.
    const warnings = lines.filter((l) => /^npm warn \S+ [^\s}]/i.test(l));
    return { ms, packages: Object.keys(lock.packages).length, bytes: sizeOf(join(dir, 'node_modules')), warnings, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MODES = ['--prefer-offline', '--offline'];
install(MODES[0]);
const results = Object.fromEntries(MODES.map((mode) => [mode, []]));
for (let k = 0; k < runs; k++) for (const mode of MODES) results[mode].push(install(mode));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log(`### Install of the tarballs into an empty project, warm cache (median of ${runs})\n`);
console.log(`Node ${process.version}, npm ${spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim()}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| what | ms | packages | node_modules MiB | tarballs KiB | warnings |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const tarKiB = tarballs.reduce((s, t) => s + statSync(t).size, 0) / 1024;
for (const mode of MODES) {
  const last = results[mode].at(-1);
  console.log(`| \`npm install ${mode}\` both tarballs | ${median(results[mode].map((r) => r.ms)).toFixed(0)} | ${last.packages} | ${(last.bytes / 2 ** 20).toFixed(1)} | ${tarKiB.toFixed(0)} | ${last.warnings.length} |`);
}
const sea = seaExecutablePath(root);
if (existsSync(sea)) console.log(`| standalone executable (one file, no Node needed) | - | - | ${(statSync(sea).size / 2 ** 20).toFixed(1)} | - | - |`);
for (const mode of MODES) {
  const { lines } = results[mode].at(-1);
  if (lines.length) console.log(`\nnpm's warnings with ${mode}:\n${lines.map((w) => `    ${w}`).join('\n')}`);
}
