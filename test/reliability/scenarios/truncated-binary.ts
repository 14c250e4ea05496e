/**
 * Issue 14, break 8: a damaged native binary. Before the fix a platform binary cut to any size
 * between 1 000 and 61 400 bytes killed `status`, `anti-call-llm`, `start` and `openScanner`
 * with a Bus error (exit 135) and no message, 62 000 bytes with SIGSEGV, and 64 random bytes
 * written into `.text` still loaded as native. Here a copy of the built package is installed
 * in a temporary dir twice: with the binary in a platform package (its size and SHA-256
 * recorded in its package.json, as `npm run package` records them) and as a clone's local
 * build (nothing recorded; its ELF structure is checked). The binary is then cut to each size
 * (and, in the platform package, overwritten with random bytes in `.text`), and the real CLI
 * runs against a real log: every command must finish normally on the TypeScript scanner and
 * say why native was not used; none may die of a signal.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRequestLine } from '../../../src/protocol/index.js';
import { freePort } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { run, type Finished } from '../support/processes.js';
import { PROJECT_ROOT, percentile, tempDir } from '../support/project.js';

export interface TruncatedBinaryParams {
  /** Sizes the binary is cut to, in bytes (those not below the binary's own size are skipped); one byte short is always tried. */
  sizes: number[];
  /** Also run `start` and `stop` on each damaged binary (about 1 s a case). */
  withStart: boolean;
}

const BUILT = join(PROJECT_ROOT, 'build', 'Release', 'rock_model_service.node');
const PLATFORM_PACKAGE = `rock-model-service-${process.platform}-${process.arch}-gnu`;
const PLATFORM_FILE = `rock-model-service.${process.platform}-${process.arch}-gnu.node`;

/** Returns the offset and size of the `.text` section of an ELF64 little-endian file. */
function textSection(elf: Buffer): { offset: number; size: number } {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const strtab = shoff + elf.readUInt16LE(0x3e) * shentsize;
  const names = Number(elf.readBigUInt64LE(strtab + 0x18));
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const nameAt = names + elf.readUInt32LE(h);
    if (elf.toString('latin1', nameAt, nameAt + 6) === '.text\0') return { offset: Number(elf.readBigUInt64LE(h + 0x18)), size: Number(elf.readBigUInt64LE(h + 0x20)) };
  }
  throw new Error('the built binary has no .text section');
}

/** A deterministic stand-in for random bytes, so that a failing case can be run again. */
function scrambled(bytes: number, seed: number): Buffer {
  return createHash('sha512').update(`scramble-${seed}`).digest().subarray(0, bytes);
}

interface Install {
  root: string;
  layout: string;
  /** Puts `bytes` where this layout keeps the binary. */
  place(bytes: Buffer): void;
}

/** A copy of the built package (bin/, dist/, package.json) under `root`, as npm would install it. */
function installPackage(root: string): void {
  mkdirSync(root, { recursive: true });
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(PROJECT_ROOT, part), join(root, part), { recursive: true });
}

/** The platform package layout: its package.json records the size and SHA-256 of the whole binary. */
function platformInstall(root: string, whole: Buffer): Install {
  installPackage(root);
  const dir = join(root, 'node_modules', PLATFORM_PACKAGE);
  mkdirSync(dir, { recursive: true });
  const binary = { file: PLATFORM_FILE, size: whole.length, sha256: createHash('sha256').update(whole).digest('hex') };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: PLATFORM_PACKAGE, version: '0.1.0', main: PLATFORM_FILE, rockModelService: { binary } }));
  return { root, layout: 'platform package', place: (bytes) => writeFileSync(join(dir, PLATFORM_FILE), bytes) };
}

/** A clone's node-gyp build: nothing recorded about it. */
function localBuildInstall(root: string): Install {
  installPackage(root);
  const dir = join(root, 'build', 'Release');
  mkdirSync(dir, { recursive: true });
  return { root, layout: 'local build', place: (bytes) => writeFileSync(join(dir, 'rock_model_service.node'), bytes) };
}

/** How `r` died of a signal (directly, or as a shell reports it, 128 + n), or undefined. */
const died = (r: Finished): string | undefined => (r.signal !== null ? `killed by ${r.signal}` : r.code !== null && r.code >= 128 ? `exit ${r.code} (signal ${r.code - 128})` : undefined);

/** Runs the scenario; returns its figures (lost = commands killed by a signal, turns whose request was not printed, starts that failed). */
export async function truncatedBinary(params: TruncatedBinaryParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const dir = tempDir('binary');
  const whole = readFileSync(BUILT);
  const text = textSection(whole);
  const dataDir = join(dir.path, 'data');
  const log = join(dataDir, 'LLMService.log');
  mkdirSync(dataDir);
  // Written again before each turn: a service started in between begins a log of its own.
  const writeLog = (): void => writeFileSync(log, encodeRequestLine('{"model":"m","messages":[{"role":"user","content":"still-served"}]}', 1));
  // The engine is left to the loader: a forced one would not show the fallback.
  const { ROCK_MS_SCANNER: _forced, ...inherited } = process.env;
  const env = { ...inherited, ROCK_MODEL_SERVICE_DATA_DIR: dataDir };
  const times: Record<'status' | 'anti-call-llm' | 'start', number[]> = { status: [], 'anti-call-llm': [], start: [] };
  let lost = 0;
  let signalled = 0;
  let cases = 0;
  let fellBack = 0;
  const installs = [platformInstall(join(dir.path, 'platform'), whole), localBuildInstall(join(dir.path, 'clone'))];
  try {
    for (const install of installs) {
      const rock = (args: string[], timeoutMs = 30_000): Promise<Finished> => run(process.execPath, [join(install.root, 'bin', 'rock.js'), 'model-service', ...args], { cwd: install.root, env, timeoutMs });
      const cuts = [...params.sizes.filter((s) => s < whole.length), whole.length - 1];
      const damages: [string, Buffer][] = cuts.map((s) => [`cut to ${s} B`, whole.subarray(0, s)]);
      // Only a recorded checksum can tell flipped bytes from a build: the local layout has none.
      if (install.layout === 'platform package') {
        damages.push([`64 bytes in .text overwritten`, Buffer.concat([whole.subarray(0, text.offset + 256), scrambled(64, 1), whole.subarray(text.offset + 320)])]);
      }
      // The whole binary first: the layout must load native, or the cases below prove nothing.
      install.place(whole);
      const sound = await rock(['status', '--json']);
      findings.check(/"scanner":"native"/.test(sound.stdout), `${install.layout}, whole binary: status said ${sound.stdout.slice(0, 300)} ${sound.stderr.slice(0, 300)}`);
      for (const [damage, bytes] of damages) {
        cases++;
        const what = `${install.layout}, ${damage}`;
        install.place(bytes);
        const status = await rock(['status', '--json']);
        times.status.push(status.ms);
        const statusDeath = died(status);
        if (!findings.check(statusDeath === undefined, `${what}: status ${statusDeath}: ${status.stderr.slice(0, 200)}`)) signalled++;
        const scanner = /"scanner":"(\w+)"/.exec(status.stdout)?.[1];
        const fallback = /"scanner_fallback":"([^"]*)"/.exec(status.stdout)?.[1] ?? '';
        if (findings.check(status.code === 0 && scanner === 'ts' && /truncated|damaged/.test(fallback), `${what}: status exited ${status.code} with scanner ${scanner}, fallback ${JSON.stringify(fallback.slice(0, 160))}`)) fellBack++;
        writeLog();
        const turn = await rock(['anti-call-llm', '--index', '0', '--timeout', '10']);
        times['anti-call-llm'].push(turn.ms);
        const turnDeath = died(turn);
        if (turnDeath !== undefined) signalled++;
        const served = findings.check(turnDeath === undefined && turn.code === 0 && turn.stdout.includes('still-served'), `${what}: anti-call-llm ${turnDeath ?? `exited ${turn.code}`}, printed ${turn.stdout.slice(0, 80)}`);
        if (!served && turnDeath === undefined) lost++;
        findings.check(/RMS_NATIVE_LOAD_FAILED/.test(turn.stderr) && /truncated|damaged/.test(turn.stderr), `${what}: anti-call-llm did not say why native was not used: ${turn.stderr.slice(0, 200)}`);
        if (!params.withStart) continue;
        const start = await rock(['start', '--host', '127.0.0.1', '--port', String(await freePort())], 40_000);
        times.start.push(start.ms);
        const startDeath = died(start);
        if (startDeath !== undefined) signalled++;
        const ran = findings.check(startDeath === undefined && start.code === 0, `${what}: start ${startDeath ?? `exited ${start.code}`}: ${start.stderr.slice(0, 200)}`);
        if (!ran && startDeath === undefined) lost++;
        const running = await rock(['status', '--json']);
        findings.check(/"status":"running"/.test(running.stdout) && /"scanner":"ts"/.test(running.stdout), `${what}: the started service: ${running.stdout.slice(0, 200)}`);
        const stop = await rock(['stop']);
        findings.check(stop.code === 0, `${what}: stop exited ${stop.code}: ${stop.stderr.slice(0, 200)}`);
      }
    }
    const range = (ms: number[]): string => (ms.length === 0 ? 'not run' : `p50 ${percentile(ms, 50).toFixed(0)} / max ${Math.max(...ms).toFixed(0)} ms`);
    return {
      scenario: 'Damaged native binary',
      load: `${cases} damaged binaries, each under status, anti-call-llm${params.withStart ? ', start and stop' : ''}`,
      faults: `the ${whole.length}-byte binary cut to ${params.sizes.join(', ')} B and one byte short in a platform package (size and SHA-256 recorded) and in a local build (ELF checked); 64 bytes of .text overwritten in the platform package`,
      inputs: 'the rock CLI of a copy of the built package, on a log holding one request',
      lost: lost + signalled,
      measured: {
        'fell back to TypeScript with the reason': `${fellBack} of ${cases}`,
        'commands killed by a signal': signalled,
        status: range(times.status),
        'anti-call-llm': range(times['anti-call-llm']),
        start: range(times.start),
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const install of installs) await run(process.execPath, [join(install.root, 'bin', 'rock.js'), 'model-service', 'stop'], { cwd: install.root, env, timeoutMs: 30_000 }).catch(() => undefined);
    dir.cleanup();
  }
}
