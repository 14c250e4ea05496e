/**
 * `npm run package` as a user meets its output: both tarballs installed into a fresh project
 * offline and with install scripts off (the binary must arrive built, and nothing may need the
 * registry), then the main tarball alone, as on a platform without a binary package; a whole
 * session through the installed CLI and through the standalone executable on a PATH without
 * Node. Slow: one `npm run package` (the executable comes from its cache under the temp dir
 * when nothing changed) and three installs.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLocalSession } from './session.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
const PLATFORM_PACKAGE = 'rock-model-service-linux-x64-gnu';
const MAIN_TARBALL = join(REPO, `${pkg.name}-${pkg.version}.tgz`);
const PLATFORM_TARBALL = join(REPO, `${PLATFORM_PACKAGE}-${pkg.version}.tgz`);

function runFull(command: string, args: string[], options: SpawnSyncOptions = {}): { stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}:\n${String(r.stdout)}\n${String(r.stderr)}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}

const run = (command: string, args: string[], options: SpawnSyncOptions = {}): string => runFull(command, args, options).stdout;

const filesIn = (tarball: string) => run('tar', ['-tzf', tarball]).split('\n').filter(Boolean);
const packageJsonIn = (tarball: string) => JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'])) as Record<string, unknown>;

/**
 * A fresh npm project with `tarballs` installed as in a sandbox without a compiler or a
 * registry: scripts off, offline. Returns the project and what npm printed.
 */
function installInto(tarballs: string[]): { dir: string; output: string } {
  const dir = makeTempDir('install');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'rms-install-probe', version: '1.0.0', private: true }));
  const { stdout, stderr } = runFull('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ...tarballs], { cwd: dir });
  return { dir, output: stdout + stderr };
}

/** A directory holding only `sh`, `sleep` and `cat`: a PATH on which there is no `node`. */
function pathWithoutNode(parent: string): string {
  const bin = join(parent, 'bin');
  mkdirSync(bin);
  for (const tool of ['sh', 'sleep', 'cat']) {
    const found = run('sh', ['-c', `command -v ${tool}`]).trim();
    symlinkSync(found, join(bin, tool));
  }
  return bin;
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
  let packageOutput = '';

  before(function () {
    // The platform package needs the addon; a build that opted out of it cannot package.
    if (process.env.ROCK_MS_SKIP_NATIVE_BUILD === '1') this.skip();
    packageOutput = run('npm', ['run', 'package'], { cwd: REPO });
  });
  after(() => {
    for (const dir of projects) removeDir(dir);
  });

  function project(tarballs: string[]): { dir: string; output: string } {
    const installed = installInto(tarballs);
    projects.push(installed.dir);
    return installed;
  }

  it('gives a main tarball without a binary that declares the platform package only in the packed package.json', () => {
    const files = filesIn(MAIN_TARBALL);
    assert.ok(files.includes('package/dist/index.js'), 'dist/index.js is packed');
    assert.ok(files.includes('package/dist/index.d.ts'), 'dist/index.d.ts is packed');
    assert.ok(files.includes('package/bin/rock.js'), 'bin/rock.js is packed');
    assert.ok(files.includes('package/dist/THIRD-PARTY-LICENSES.txt'), 'the bundled packages\' licences are packed');
    assert.deepEqual(files.filter((f) => f.endsWith('.node') || f.endsWith('.map') || f.endsWith('bundle-meta.json')), []);

    const packed = packageJsonIn(MAIN_TARBALL);
    assert.deepEqual(packed.optionalDependencies, { [PLATFORM_PACKAGE]: pkg.version });
    const scripts = (packed.scripts ?? {}) as Record<string, string>;
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(scripts[hook], undefined, `${hook} script`);
    assert.notEqual(packed.gypfile, true);

    const committed = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal((committed.optionalDependencies as Record<string, string> | undefined)?.[PLATFORM_PACKAGE], undefined);
  });

  it('gives a main package.json with no runtime dependencies: the platform package is its one optional dependency', () => {
    const packed = packageJsonIn(MAIN_TARBALL);
    for (const field of ['dependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies', 'devDependencies']) {
      assert.equal(packed[field], undefined, `${field}: ${JSON.stringify(packed[field])}`);
    }
    assert.deepEqual(Object.keys(packed.optionalDependencies as object), [PLATFORM_PACKAGE]);
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

  describe('installed with its platform package, offline, scripts off', () => {
    let dir: string;
    let output: string;
    before(() => ({ dir, output } = project([MAIN_TARBALL, PLATFORM_TARBALL])));

    it('installs two packages and prints no warning', () => {
      assert.doesNotMatch(output, /npm warn/i);
      assert.deepEqual(run('ls', [join(dir, 'node_modules')]).split('\n').filter(Boolean), ['rock-model-service', PLATFORM_PACKAGE]);
    });

    it('gives the library and `status` the native scanner', () => {
      assert.equal(libraryScanner(dir), 'native');
      assert.equal(statusScanner(dir), 'scanner: native');
    });

    it('can be loaded with require(), which gives the same classes as import', () => {
      const out = run(
        process.execPath,
        ['-e', `const cjs = require('rock-model-service');
          import('rock-model-service').then((esm) => console.log(JSON.stringify({
            same: esm.ModelClient === cjs.ModelClient && esm.ConfigError === cjs.ConfigError,
            instance: new esm.ConfigError('x') instanceof cjs.ModelServiceError,
            kind: cjs.openScanner(${JSON.stringify(join(dir, 'package.json'))}).kind })));`],
        { cwd: dir },
      );
      assert.deepEqual(JSON.parse(out), { same: true, instance: true, kind: 'native' });
    });

    it('gives types that check with skipLibCheck off, although none of the bundled packages is installed', () => {
      writeFileSync(
        join(dir, 'use.mts'),
        `import { ModelClient, startServer, loadConfig, ModelService, LocalSandbox, openScanner, ConfigError, type RunningServer } from 'rock-model-service';
        const server: Promise<RunningServer> = startServer({ port: 0 });
        export const used = [new ModelClient({ dataDir: '.' }), server, loadConfig, ModelService, LocalSandbox, openScanner, new ConfigError('x')];\n`,
      );
      const options = { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')] };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: ['use.mts'] }));
      run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: dir });
    });

    it('is required as CommonJS, on a Node that cannot require() ES modules too', () => {
      const r = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', "console.log(typeof require('rock-model-service').ModelClient)"], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'function');
    });

    it('runs a whole local-mode session through the installed CLI', async () => {
      const dataDir = join(dir, 'data');
      const env: NodeJS.ProcessEnv = { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: dataDir };
      delete env.ROCK_MS_SCANNER;
      const status = await runLocalSession({ command: join(dir, 'node_modules', '.bin', 'rock'), args: [], cwd: dir, env }, dataDir, ['sleep', '600'], pkg.version);
      assert.match(status, /^scanner: native$/m);
    });
  });

  it('installed alone, offline, the main package skips the unpublished platform package and uses TypeScript', () => {
    const { dir } = project([MAIN_TARBALL]);
    assert.equal(existsSync(join(dir, 'node_modules', PLATFORM_PACKAGE)), false);
    assert.equal(libraryScanner(dir), 'ts');
    assert.equal(statusScanner(dir), 'scanner: ts');
  });

  describe('the standalone executable', () => {
    let executable: string;
    before(function () {
      const line = /^standalone:\s+(\S+)/m.exec(packageOutput);
      if (line === null) assert.fail(`npm run package named no standalone executable:\n${packageOutput}`);
      executable = line[1]!;
    });

    it('runs a whole local-mode session, with its own native scanner, where PATH holds no node', async () => {
      const dir = makeTempDir('standalone');
      projects.push(dir);
      const path = pathWithoutNode(dir);
      const env = { PATH: path, ROCK_MODEL_SERVICE_DATA_DIR: join(dir, 'data') };
      assert.notEqual(spawnSync('sh', ['-c', 'command -v node'], { env }).status, 0, `node is on ${path}`);
      assert.ok(!path.split(delimiter).some((p) => existsSync(join(p, 'node'))));
      const status = await runLocalSession({ command: executable, args: [], cwd: dir, env }, env.ROCK_MODEL_SERVICE_DATA_DIR, [join(path, 'sleep'), '600'], pkg.version);
      assert.match(status, /^scanner: native$/m);
    });

    it('falls back to the TypeScript scanner, saying why and what to do, when it cannot write its native scanner to TMPDIR', () => {
      const dir = makeTempDir('standalone');
      projects.push(dir);
      const r = spawnSync(executable, ['status'], { cwd: dir, encoding: 'utf8', env: { PATH: '', TMPDIR: join(dir, 'missing'), ROCK_MODEL_SERVICE_DATA_DIR: dir } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^scanner: ts$/m);
      assert.match(r.stderr, /RMS_NATIVE_LOAD_FAILED/);
      assert.match(r.stderr, /set TMPDIR to a writable directory/);
    });
  });
});
