/**
 * Picks the scan engine (docs/packaging.md), in @parcel/watcher's order: the platform package
 * that `@napi-rs/cli` lays out (`rock-model-service-linux-x64-gnu`…), then a node-gyp build
 * in this checkout (`build/Release`), then the TypeScript engine. Nothing is loaded until the
 * first call, and the outcome is cached for the life of the process.
 *
 * Every binary is checked before dlopen sees it (binary-check.ts): a platform package's against
 * the size and SHA-256 that `npm run package` recorded in its package.json; a local build,
 * which nothing recorded (it was just compiled here), against its own ELF structure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, NativeLoadFailedError, NativeUnavailableError } from '../errors.js';
import { isStandaloneExecutable } from '../process/standalone.js';
import { elfProblem, manifestOf, manifestProblem } from './binary-check.js';
import { EMBEDDED_ADDON, loadEmbeddedAddon } from './embedded-binary.js';
import { bindingProblem, createNativeEngine, type NativeBinding } from './native-engine.js';
import { tsEngine } from './ts-engine.js';
import type { ScanEngine } from './types.js';

/** One place the loader looked for the native binary, and why it was not used. */
export interface LoadAttempt {
  place: string;
  reason: string;
}

export interface NativeLoadResult {
  engine?: ScanEngine;
  /** The binary the engine came from. */
  binary?: string;
  /** Every place tried before the one that loaded (all of them when none did). */
  attempts: LoadAttempt[];
}

const require = createRequire(import.meta.url);
// Two levels up from src/scanner/ (tsx) and from every file of the bundle, dist/<dir>/ (scripts/bundle.mjs), alike.
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOCAL_BUILD = join(PACKAGE_ROOT, 'build', 'Release', 'rock_model_service.node');
const PACKAGE_NAME = 'rock-model-service';

/**
 * Returns the platform package names to try, in @napi-rs/cli's naming. On Linux both libc
 * flavours are listed instead of detecting the libc: npm installs only the package whose
 * `libc` field matches, so the first name that resolves is the right one. Measured at process
 * start here (Node 20.20): resolving a missing package costs 0.15-0.24 ms after the first
 * require, against 4.1 ms for `process.report.getReport()` (glibcVersionRuntime), 0.13-0.26 ms
 * for reading the Node binary's ELF interpreter, and 20 us for an existsSync of the musl loader,
 * which is wrong on a glibc system with musl-tools installed. On glibc with the package
 * installed, the musl name is never tried.
 */
export function platformPackageNames(platform: string = process.platform, arch: string = process.arch): string[] {
  const base = `${PACKAGE_NAME}-${platform}-${arch}`;
  if (platform === 'linux') {
    if (arch === 'arm') return [`${base}-gnueabihf`, `${base}-musleabihf`];
    return [`${base}-gnu`, `${base}-musl`];
  }
  if (platform === 'win32') return [`${base}-msvc`];
  return [base];
}

let cached: NativeLoadResult | undefined;
let warned = false;

// Reasons that mean "nothing there"; any other reason is a binary that exists but failed.
const NOT_INSTALLED = 'not installed';
const NOT_BUILT = 'not built (run `npm run build` in a clone)';
const NOT_EMBEDDED = 'not embedded (this executable was built without the native scanner)';
const EMBEDDED_PLACE = `${EMBEDDED_ADDON} inside ${process.execPath}`;
/** The reason given when the binary could not install its SIGBUS guard (see bindingProblem). */
const NO_FAULT_GUARD = /SIGBUS handler/;

function isNotFound(err: unknown, request: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${request}'`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/**
 * dlopens a binary that passed its checks (or loads one with `load`, which returns undefined
 * when there is none); returns the engine, or records why it cannot be used.
 */
function tryRequire(place: string, file: string, attempts: LoadAttempt[], load: () => unknown = () => require(file)): ScanEngine | undefined {
  let binding: unknown;
  try {
    binding = load();
  } catch (err) {
    attempts.push({ place, reason: `failed to load: ${messageOf(err)}` });
    return undefined;
  }
  if (binding === undefined) {
    attempts.push({ place, reason: NOT_EMBEDDED });
    return undefined;
  }
  const problem = bindingProblem(binding);
  if (problem !== null) {
    attempts.push({ place, reason: problem });
    return undefined;
  }
  return createNativeEngine(binding as NativeBinding);
}

/** The platform package `name`: its binary, as its package.json records it, checked, then loaded. */
function tryPlatformPackage(name: string, attempts: LoadAttempt[]): { engine: ScanEngine; binary: string } | undefined {
  const request = `${name}/package.json`;
  let packageJson: string;
  try {
    packageJson = require.resolve(request);
  } catch (err) {
    attempts.push({ place: name, reason: isNotFound(err, request) ? NOT_INSTALLED : `failed to load: ${messageOf(err)}` });
    return undefined;
  }
  let manifest;
  try {
    manifest = manifestOf(JSON.parse(readFileSync(packageJson, 'utf8')));
  } catch (err) {
    attempts.push({ place: name, reason: `its package.json cannot be read: ${messageOf(err)}` });
    return undefined;
  }
  if (manifest === null) {
    attempts.push({ place: name, reason: 'its package.json records no binary size and SHA-256 (rockModelService.binary); reinstall the package' });
    return undefined;
  }
  const binary = join(dirname(packageJson), manifest.file);
  const problem = manifestProblem(binary, manifest);
  if (problem !== null) {
    attempts.push({ place: name, reason: `${problem}; reinstall the package` });
    return undefined;
  }
  const engine = tryRequire(name, binary, attempts);
  return engine && { engine, binary };
}

/** The node-gyp build of a clone: nothing recorded its hash, so its ELF structure is checked. */
function tryLocalBuild(attempts: LoadAttempt[]): { engine: ScanEngine; binary: string } | undefined {
  if (!existsSync(LOCAL_BUILD)) {
    attempts.push({ place: LOCAL_BUILD, reason: NOT_BUILT });
    return undefined;
  }
  const problem = elfProblem(LOCAL_BUILD);
  if (problem !== null) {
    attempts.push({ place: LOCAL_BUILD, reason: problem });
    return undefined;
  }
  const engine = tryRequire(LOCAL_BUILD, LOCAL_BUILD, attempts);
  return engine && { engine, binary: LOCAL_BUILD };
}

/**
 * Returns the native engine if one loads, with the places tried before it. Never throws:
 * failures are in `attempts`.
 */
export function loadNativeEngine(): NativeLoadResult {
  if (cached) return cached;
  const attempts: LoadAttempt[] = [];
  let found: { engine: ScanEngine; binary: string } | undefined;
  // The standalone executable carries its own binary (or none); no package sits beside it.
  if (isStandaloneExecutable()) {
    const engine = tryRequire(EMBEDDED_PLACE, EMBEDDED_PLACE, attempts, loadEmbeddedAddon);
    cached = engine ? { engine, binary: EMBEDDED_PLACE, attempts } : { attempts };
    return cached;
  }
  for (const name of platformPackageNames()) {
    found = tryPlatformPackage(name, attempts);
    if (found) break;
  }
  found ??= tryLocalBuild(attempts);
  cached = found ? { ...found, attempts } : { attempts };
  return cached;
}

/** Returns the attempts that found a binary which could not be used (not the places where none was). */
function failedAttempts(attempts: readonly LoadAttempt[]): LoadAttempt[] {
  return attempts.filter((a) => a.reason !== NOT_INSTALLED && a.reason !== NOT_BUILT && a.reason !== NOT_EMBEDDED);
}

/** A binary that exists but cannot be used is reported once (code RMS_NATIVE_LOAD_FAILED), never swallowed. */
function warnAboutFailures(attempts: LoadAttempt[]): void {
  const failed = failedAttempts(attempts);
  if (warned || failed.length === 0) return;
  warned = true;
  process.emitWarning(
    'a native scanner binary exists but could not be used, so the TypeScript scanner runs instead:\n' +
      failed.map((a) => `  - ${a.place}: ${a.reason}`).join('\n') +
      '\nReinstall the package (or `npm run build` in a clone), or set ROCK_MS_SCANNER=ts to choose TypeScript on purpose.',
    { code: NativeLoadFailedError.code },
  );
}

/**
 * Returns the engine to use: ROCK_MS_SCANNER=ts or =native forces one, unset picks native
 * when it loads and TypeScript otherwise. Throws NativeUnavailableError when native is
 * forced and cannot load, and ConfigError for any other value.
 */
export function getScanEngine(env: NodeJS.ProcessEnv = process.env): ScanEngine {
  const choice = env.ROCK_MS_SCANNER ?? '';
  switch (choice) {
    case 'ts':
      return tsEngine;
    case 'native': {
      const { engine, attempts } = loadNativeEngine();
      if (!engine) throw new NativeUnavailableError(attempts);
      return engine;
    }
    case '': {
      const { engine, attempts } = loadNativeEngine();
      if (engine) return engine;
      warnAboutFailures(attempts);
      return tsEngine;
    }
    default:
      throw new ConfigError(
        `ROCK_MS_SCANNER=${JSON.stringify(choice)} is not a scanner: use "native", "ts", ` +
          'or leave it unset to use native when it loads and TypeScript otherwise',
        'ROCK_MS_SCANNER',
      );
  }
}

/** Returns every engine that works here: TypeScript always, native when it loads (for tests run over both). */
export function availableEngines(): ScanEngine[] {
  const { engine } = loadNativeEngine();
  return engine ? [tsEngine, engine] : [tsEngine];
}

/** What `status` reports about the scanner. */
export interface ScannerStatus {
  kind: 'native' | 'ts';
  /**
   * The native engine's SIGBUS guard (a log that shrinks while mapped is survived):
   * `installed` when native runs; `unavailable` when a native binary was refused because it
   * could not install it; `not-needed` for the TypeScript engine otherwise (pread cannot fault).
   */
  faultGuard: 'installed' | 'unavailable' | 'not-needed';
  /** The native binary in use. */
  binary?: string;
  /** Why the TypeScript engine runs although ROCK_MS_SCANNER did not ask for it (one line). */
  fallback?: string;
}

/**
 * Returns which engine getScanEngine() gives here and, when it is TypeScript by default, why
 * native is not used.
 * @throws what getScanEngine throws (NativeUnavailableError, ConfigError).
 */
export function scannerStatus(env: NodeJS.ProcessEnv = process.env): ScannerStatus {
  const engine = getScanEngine(env);
  if (engine.kind === 'native') return { kind: 'native', faultGuard: 'installed', binary: loadNativeEngine().binary };
  if (env.ROCK_MS_SCANNER === 'ts') return { kind: 'ts', faultGuard: 'not-needed' };
  const { attempts } = loadNativeEngine();
  const failed = failedAttempts(attempts);
  return {
    kind: 'ts',
    faultGuard: failed.some((a) => NO_FAULT_GUARD.test(a.reason)) ? 'unavailable' : 'not-needed',
    fallback:
      failed.length > 0
        ? failed.map((a) => `${a.place}: ${a.reason}`).join('; ')
        : 'no native binary here (the platform package is not installed and there is no local build)',
  };
}
