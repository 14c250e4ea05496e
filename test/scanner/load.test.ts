/**
 * The loader, each case in a fresh Node process (the choice is cached per process), over
 * real package layouts in a temporary directory: a copy of src/ with or without a platform
 * package, a local build, or a corrupt binary. Nothing is hidden by a switch: the loader
 * looks where it always looks, and the layout decides what it finds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { platformPackageNames } from '../../src/scanner/load.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ADDON = join(REPO, 'build', 'Release', 'rock_model_service.node');
const PLATFORM_PACKAGE = platformPackageNames()[0]!;

interface Outcome {
  kind?: string;
  error?: { name: string; code: string; message: string };
  attempts?: { place: string; reason: string }[];
  stderr: string;
}

/** Runs getScanEngine() from the package at `root` in a new process; returns what it chose or threw. */
function choose(root: string, scanner: string | undefined): Outcome {
  const env = { ...process.env };
  delete env.ROCK_MS_SCANNER;
  if (scanner !== undefined) env.ROCK_MS_SCANNER = scanner;
  const loader = JSON.stringify(join(root, 'src', 'scanner', 'load.ts'));
  const code = `
    const { getScanEngine, loadNativeEngine } = await import(${loader});
    const out = {};
    try { out.kind = getScanEngine().kind; } catch (e) { out.error = { name: e.name, code: e.code, message: e.message }; }
    if (process.env.ROCK_MS_SCANNER !== 'ts') out.attempts = loadNativeEngine().attempts;
    console.log(JSON.stringify(out));`;
  // tsx resolves from the repository (cwd); the code under test is the copy at `root`.
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<Outcome, 'stderr'>), stderr: r.stderr };
}

describe('scanner loader', function () {
  this.timeout(60_000);
  const dir = makeTempDir('load');
  const built = existsSync(ADDON);
  after(() => removeDir(dir));

  /** A package root holding a copy of src/ (and package.json), nothing else yet. */
  function packageCopy(name: string): string {
    const root = join(dir, name);
    cpSync(join(REPO, 'src'), join(root, 'src'), { recursive: true });
    copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'));
    return root;
  }

  /**
   * Lays out the platform package with `body` as its binary. Its package.json records the size
   * and SHA-256 of `recorded` (default: `body`), as `npm run package` does; null records none.
   */
  function platformPackage(root: string, main: string, body: Buffer | string, recorded: Buffer | string | null = body): void {
    const pkg = join(root, 'node_modules', PLATFORM_PACKAGE);
    mkdirSync(pkg, { recursive: true });
    const binary =
      recorded === null
        ? undefined
        : { file: main, size: Buffer.byteLength(recorded), sha256: createHash('sha256').update(recorded).digest('hex') };
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: PLATFORM_PACKAGE, version: '0.0.0', main, rockModelService: { binary } }));
    writeFileSync(join(pkg, main), body);
  }

  describe('in this checkout', () => {
    it('ROCK_MS_SCANNER=ts gives the TypeScript engine without looking for a binary', () => {
      assert.equal(choose(REPO, 'ts').kind, 'ts');
    });

    it('unset gives native when the local build loads, TypeScript otherwise', () => {
      assert.equal(choose(REPO, undefined).kind, built ? 'native' : 'ts');
    });

    it('ROCK_MS_SCANNER=native gives the native engine from the local build', function () {
      if (!built) this.skip();
      const out = choose(REPO, 'native');
      assert.equal(out.kind, 'native');
      assert.deepEqual(out.attempts!.map((a) => a.place).slice(0, 2), platformPackageNames());
    });

    it('any other value is a configuration error that names the allowed values', () => {
      for (const value of ['bogus', 'NATIVE', 'typescript', ' ts']) {
        const out = choose(REPO, value);
        assert.equal(out.error?.code, 'RMS_CONFIG', value);
        assert.match(out.error!.message, /ROCK_MS_SCANNER=.*"native", "ts", or leave it unset/);
      }
    });

    it('an empty value counts as unset', () => {
      assert.equal(choose(REPO, '').kind, built ? 'native' : 'ts');
    });
  });

  describe('in an installed layout', () => {
    it('with no binary anywhere, forced native fails listing every place tried and why', () => {
      const root = packageCopy('no-binary');
      const out = choose(root, 'native');
      assert.equal(out.error?.code, 'RMS_NATIVE_UNAVAILABLE');
      assert.equal(out.error?.name, 'NativeUnavailableError');
      for (const name of platformPackageNames()) assert.ok(out.error!.message.includes(`${name}: not installed`), out.error!.message);
      assert.ok(out.error!.message.includes(`${join(root, 'build', 'Release', 'rock_model_service.node')}: not built`), out.error!.message);
      assert.match(out.error!.message, /unset ROCK_MS_SCANNER to use the TypeScript scanner/);
    });

    it('with no binary anywhere, unset falls back to TypeScript quietly', () => {
      const out = choose(packageCopy('no-binary-quiet'), undefined);
      assert.equal(out.kind, 'ts');
      assert.doesNotMatch(out.stderr, /RMS_NATIVE_LOAD_FAILED/);
    });

    it('a corrupt local build is reported with the loader error, never swallowed', () => {
      const root = packageCopy('corrupt-build');
      mkdirSync(join(root, 'build', 'Release'), { recursive: true });
      writeFileSync(join(root, 'build', 'Release', 'rock_model_service.node'), 'not an ELF file');

      const forced = choose(root, 'native');
      assert.equal(forced.error?.code, 'RMS_NATIVE_UNAVAILABLE');
      assert.match(forced.error!.message, /rock_model_service\.node: failed to load: .*(invalid ELF header|too short)/);

      const quiet = choose(root, undefined);
      assert.equal(quiet.kind, 'ts');
      assert.match(quiet.stderr, /RMS_NATIVE_LOAD_FAILED.*\n.*rock_model_service\.node: failed to load/);
    });

    it('the platform package comes first and loads the binary its package.json records', function () {
      if (!built) this.skip();
      const root = packageCopy('platform');
      platformPackage(root, 'rock-model-service.linux-x64-gnu.node', readFileSync(ADDON));
      const out = choose(root, 'native');
      assert.equal(out.kind, 'native');
      assert.deepEqual(out.attempts, []);
    });

    it('a platform binary that is not a loadable library is reported, and the local build is tried next', () => {
      const root = packageCopy('corrupt-platform');
      platformPackage(root, 'rock-model-service.linux-x64-gnu.node', 'garbage');
      const out = choose(root, 'native');
      assert.equal(out.error?.code, 'RMS_NATIVE_UNAVAILABLE');
      assert.match(out.error!.message, new RegExp(`${PLATFORM_PACKAGE}: failed to load: `));
      assert.match(out.error!.message, /rock_model_service\.node: not built/);
    });

    it('a platform package whose package.json records no binary is refused before anything is loaded', () => {
      const root = packageCopy('no-manifest');
      platformPackage(root, 'rock-model-service.linux-x64-gnu.node', 'module.exports = 1', null);
      const out = choose(root, 'native');
      assert.match(out.error!.message, /records no binary size and SHA-256 \(rockModelService\.binary\); reinstall the package/);
    });

    it('a manifest that names a file outside its package is refused as no manifest', () => {
      const root = packageCopy('escape');
      platformPackage(root, '../../escape.node', 'x');
      const out = choose(root, 'native');
      assert.match(out.error!.message, /records no binary size and SHA-256/);
    });

    describe('a damaged platform binary falls back to TypeScript with the reason, never a crash', () => {
      const binary = (): Buffer => readFileSync(ADDON);
      before(function () {
        if (!built) this.skip();
      });

      /** The platform package holds `body` where the real binary was recorded; the loader must refuse it. */
      function assertRefused(name: string, body: Buffer, reason: RegExp): void {
        const root = packageCopy(name);
        platformPackage(root, 'rock-model-service.linux-x64-gnu.node', body, binary());
        const quiet = choose(root, undefined);
        assert.equal(quiet.kind, 'ts', name);
        assert.match(quiet.stderr, /RMS_NATIVE_LOAD_FAILED/, name);
        assert.match(quiet.stderr, reason, name);
        const forced = choose(root, 'native');
        assert.equal(forced.error?.code, 'RMS_NATIVE_UNAVAILABLE', name);
        assert.match(forced.error!.message, reason, name);
      }

      for (const size of [1000, 30_000, 61_400, 62_000, -1]) {
        it(`cut to ${size < 0 ? 'one byte short' : `${size} bytes`}`, () => {
          const whole = binary();
          const cut = size < 0 ? whole.length - 1 : size;
          assertRefused(`truncated-${cut}`, whole.subarray(0, cut), new RegExp(`is ${cut} bytes, but its package recorded ${whole.length}: it is truncated or damaged`));
        });
      }

      it('64 random bytes written into .text', () => {
        const damaged = Buffer.from(binary());
        const text = sectionRange(damaged, '.text');
        randomBytes(64).copy(damaged, text.offset + Math.floor((text.size - 64) / 2));
        assertRefused('random-text', damaged, /has SHA-256 [0-9a-f]{64}, but its package recorded [0-9a-f]{64}: it is damaged/);
      });

      it('a truncated local build (nothing recorded its hash) is refused by its ELF structure', () => {
        const root = packageCopy('truncated-build');
        mkdirSync(join(root, 'build', 'Release'), { recursive: true });
        writeFileSync(join(root, 'build', 'Release', 'rock_model_service.node'), binary().subarray(0, 40_000));
        const out = choose(root, undefined);
        assert.equal(out.kind, 'ts');
        assert.match(out.stderr, /rock_model_service\.node is 40000 bytes, but its .* runs to byte \d+: it is truncated; rebuild it/);
      });
    });

    it('importing the loader loads nothing: a bad ROCK_MS_SCANNER only fails when an engine is asked for', () => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(join(REPO, 'src', 'scanner', 'index.ts'))}); console.log('imported');`],
        { cwd: REPO, env: { ...process.env, ROCK_MS_SCANNER: 'bogus' }, encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'imported');
    });
  });

  it('names platform packages as @napi-rs/cli lays them out', () => {
    assert.deepEqual(platformPackageNames('linux', 'x64'), ['rock-model-service-linux-x64-gnu', 'rock-model-service-linux-x64-musl']);
    assert.deepEqual(platformPackageNames('linux', 'arm'), ['rock-model-service-linux-arm-gnueabihf', 'rock-model-service-linux-arm-musleabihf']);
    assert.deepEqual(platformPackageNames('darwin', 'arm64'), ['rock-model-service-darwin-arm64']);
    assert.deepEqual(platformPackageNames('win32', 'x64'), ['rock-model-service-win32-x64-msvc']);
  });
});

/** The file offset and size of the ELF64 section `name` (the tests damage the real binary's code). */
function sectionRange(elf: Buffer, name: string): { offset: number; size: number } {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  const header = (i: number): number => shoff + i * shentsize;
  const names = Number(elf.readBigUInt64LE(header(shstrndx) + 0x18));
  for (let i = 0; i < shnum; i++) {
    const nameAt = names + elf.readUInt32LE(header(i));
    if (elf.toString('latin1', nameAt, elf.indexOf(0, nameAt)) === name) {
      return { offset: Number(elf.readBigUInt64LE(header(i) + 0x18)), size: Number(elf.readBigUInt64LE(header(i) + 0x20)) };
    }
  }
  throw new Error(`no section ${name}`);
}
