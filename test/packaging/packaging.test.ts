/**
 * `npm run package` as a user meets its output: both tarballs installed into a fresh project
 * with install scripts off (the binary must arrive built), then the main tarball alone, as on
 * a platform without a binary package. Slow (npm installs from the registry or its cache).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
const PLATFORM_PACKAGE = 'rock-model-service-linux-x64-gnu';
const MAIN_TARBALL = join(REPO, `${pkg.name}-${pkg.version}.tgz`);
const PLATFORM_TARBALL = join(REPO, `${PLATFORM_PACKAGE}-${pkg.version}.tgz`);

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}:\n${String(r.stdout)}\n${String(r.stderr)}`);
  return String(r.stdout);
}

const filesIn = (tarball: string) => run('tar', ['-tzf', tarball]).split('\n').filter(Boolean);
const packageJsonIn = (tarball: string) => JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'])) as Record<string, unknown>;

/** A fresh npm project with `tarballs` installed the way a user without a compiler would. */
function installInto(tarballs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rms-install-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'rms-install-probe', version: '1.0.0', private: true }));
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', ...tarballs], { cwd: dir });
  return dir;
}

/** Which scanner the installed library picks (imported by package name from inside the project). */
function libraryScanner(dir: string): string {
  const probe = join(dir, 'probe.log');
  writeFileSync(probe, '');
  const env = { ...process.env };
  delete env.ROCK_MS_SCANNER;
  return run(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import('rock-model-service'); console.log(m.openScanner(${JSON.stringify(probe)}).kind);`],
    { cwd: dir, env },
  ).trim();
}

/** The `scanner:` line of the installed CLI's `rock model-service status`. */
function statusScanner(dir: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: join(dir, 'data') };
  delete env.ROCK_MS_SCANNER;
  const out = run(join(dir, 'node_modules', '.bin', 'rock'), ['model-service', 'status'], { cwd: dir, env });
  return out.split('\n').find((line) => /^scanner:/i.test(line)) ?? `no scanner line in:\n${out}`;
}

describe('packaging (npm run package)', function () {
  this.timeout(300_000);
  const projects: string[] = [];

  before(function () {
    // The platform package needs the addon; a build that opted out of it cannot package.
    if (process.env.ROCK_MS_SKIP_NATIVE_BUILD === '1') this.skip();
    run('npm', ['run', 'package'], { cwd: REPO });
  });
  after(() => {
    for (const dir of projects) rmSync(dir, { recursive: true, force: true });
  });

  it('gives a main tarball without a binary that declares the platform package only in the packed package.json', () => {
    const files = filesIn(MAIN_TARBALL);
    assert.ok(files.includes('package/dist/index.js'), 'dist/index.js is packed');
    assert.ok(files.includes('package/bin/rock.js'), 'bin/rock.js is packed');
    assert.deepEqual(files.filter((f) => f.endsWith('.node')), []);

    const packed = packageJsonIn(MAIN_TARBALL);
    assert.deepEqual(packed.optionalDependencies, { [PLATFORM_PACKAGE]: pkg.version });
    const scripts = (packed.scripts ?? {}) as Record<string, string>;
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(scripts[hook], undefined, `${hook} script`);
    assert.notEqual(packed.gypfile, true);

    const committed = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal((committed.optionalDependencies as Record<string, string> | undefined)?.[PLATFORM_PACKAGE], undefined);
  });

  it('gives a platform tarball holding the binary, for linux x64 glibc, at the same version', () => {
    const nodeFiles = filesIn(PLATFORM_TARBALL).filter((f) => f.endsWith('.node'));
    assert.deepEqual(nodeFiles, ['package/rock-model-service.linux-x64-gnu.node']);
    const packed = packageJsonIn(PLATFORM_TARBALL);
    assert.equal(packed.name, PLATFORM_PACKAGE);
    assert.equal(packed.version, pkg.version);
    assert.equal(packed.main, 'rock-model-service.linux-x64-gnu.node');
    assert.deepEqual([packed.os, packed.cpu, packed.libc], [['linux'], ['x64'], ['glibc']]);
  });

  it('installed with its platform package, the library and `status` use the native scanner', () => {
    const dir = installInto([MAIN_TARBALL, PLATFORM_TARBALL]);
    projects.push(dir);
    assert.equal(libraryScanner(dir), 'native');
    assert.equal(statusScanner(dir), 'scanner: native');
  });

  it('installed alone, the main package skips the unpublished platform package and uses TypeScript', () => {
    const dir = installInto([MAIN_TARBALL]);
    projects.push(dir);
    // The registry has no package of that name (404), so npm skips the optional dependency.
    assert.equal(existsSync(join(dir, 'node_modules', PLATFORM_PACKAGE)), false);
    assert.equal(libraryScanner(dir), 'ts');
    assert.equal(statusScanner(dir), 'scanner: ts');
  });
});
