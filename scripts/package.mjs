// `npm run package`: the two tarballs of a release (docs/packaging.md), in @napi-rs/cli's layout,
// and the standalone executable:
//   rock-model-service-linux-x64-gnu-<version>.tgz  the addon, as `napi create-npm-dirs`,
//                                                   `napi artifacts` and `napi version` lay it out
//   rock-model-service-<version>.tgz                the main package: the bundled runtime, no
//                                                   binary, no dependencies, declaring the
//                                                   platform package in optionalDependencies
//   rock-model-service-linux-x64                    the CLI with Node and the addon inside, for
//                                                   sandboxes without Node (scripts/sea.mjs)
// The optionalDependencies entry is written only into the packed package.json (as `napi
// pre-publish` does): the platform package is not published, and a committed entry breaks
// `npm ci` in a clone. Everything is staged in a temporary directory; the checkout is not
// touched except for the build outputs and the two tarballs in its root.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStandalone } from './sea.mjs';
import { seaExecutablePath } from './sea-path.mjs';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const addon = join(root, 'build', 'Release', 'rock_model_service.node');

function fail(message) {
  console.error(`npm run package: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], encoding: 'utf8', ...options });
  if (r.status !== 0) fail(`\`${[command, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r;
}

/** The newest modification time under `paths` (files or directories), 0 when none exist. */
function newest(paths) {
  let latest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const st = statSync(p);
    if (st.isDirectory()) latest = Math.max(latest, newest(readdirSync(p).map((name) => join(p, name))));
    else latest = Math.max(latest, st.mtimeMs);
  }
  return latest;
}

const isStale = (output, sources) => !existsSync(output) || statSync(output).mtimeMs < newest(sources);

// The napi suffix of the platform this machine builds for (napi's platformArchABI naming).
function hostSuffix() {
  const { platform, arch } = process;
  if (platform !== 'linux') return platform === 'win32' ? `${platform}-${arch}-msvc` : `${platform}-${arch}`;
  const glibc = Boolean(process.report.getReport().header.glibcVersionRuntime);
  return `${platform}-${arch}-${glibc ? 'gnu' : 'musl'}`;
}

const npm = (args, options) =>
  process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')
    ? run(process.execPath, [process.env.npm_execpath, ...args], options)
    : run('npm', args, options);

function napi(args, cwd) {
  const cliPackage = require.resolve('@napi-rs/cli/package.json');
  const { bin } = JSON.parse(readFileSync(cliPackage, 'utf8'));
  run(process.execPath, [join(dirname(cliPackage), typeof bin === 'string' ? bin : bin.napi), ...args, '--cwd', cwd]);
}

/** Packs `dir` into the project root; returns the tarball's path. */
function pack(dir) {
  const r = npm(['pack', dir, '--ignore-scripts', '--json', '--pack-destination', root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [{ filename }] = JSON.parse(r.stdout);
  return join(root, filename);
}

function tarballFiles(tarball) {
  return run('tar', ['-tzf', tarball], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout.split('\n').filter(Boolean);
}

// 1. Build what is out of date (the addon with node-gyp; the bundle, which carries the version).
const addonStale = isStale(addon, [join(root, 'binding.gyp'), join(root, 'native')]);
const distStale = isStale(join(root, 'dist', 'index.js'), [join(root, 'src'), join(root, 'tsconfig.json'), join(root, 'package.json'), join(root, 'scripts', 'bundle.mjs')]);
if (addonStale || distStale) run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
if (!existsSync(addon)) fail(`no addon at ${addon} after the build (see its output): the platform package needs it`);
// Everything the runtime uses is inside the bundle; a package in `dependencies` would be
// installed beside it for nothing, or be needed because the bundle left it out.
const runtimeDependencies = Object.keys(pkg.dependencies ?? {});
if (runtimeDependencies.length > 0) {
  fail(`package.json has runtime dependencies (${runtimeDependencies.join(', ')}): the bundle carries what the runtime uses, so list them in devDependencies`);
}

const stage = mkdtempSync(join(tmpdir(), 'rms-package-'));
try {
  // 2. The platform package, laid out by @napi-rs/cli from the napi section of package.json.
  writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2));
  napi(['create-npm-dirs'], stage);
  const suffix = hostSuffix();
  const targets = readdirSync(join(stage, 'npm'));
  const unbuildable = targets.filter((t) => t !== suffix);
  if (unbuildable.length > 0) {
    fail(`napi.targets lists ${unbuildable.join(', ')}, but this machine builds only ${suffix}: list only the targets really built`);
  }
  const binaryName = pkg.napi.binaryName;
  mkdirSync(join(stage, 'artifacts'));
  copyFileSync(addon, join(stage, 'artifacts', `${binaryName}.${suffix}.node`));
  napi(['artifacts'], stage);
  napi(['version'], stage);
  const platformDir = join(stage, 'npm', suffix);
  const platformPkg = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8'));
  if (platformPkg.version !== pkg.version) fail(`napi version left ${platformPkg.name} at ${platformPkg.version}, not ${pkg.version}`);
  // The loader checks the binary against this record before dlopen: a truncated or damaged
  // binary would otherwise kill every command with SIGBUS (src/scanner/binary-check.ts).
  const binaryFile = platformPkg.main;
  const binaryBytes = readFileSync(join(platformDir, binaryFile));
  platformPkg.rockModelService = {
    binary: { file: binaryFile, size: binaryBytes.length, sha256: createHash('sha256').update(binaryBytes).digest('hex') },
  };
  writeFileSync(join(platformDir, 'package.json'), JSON.stringify(platformPkg, null, 2) + '\n');
  const platformTarball = pack(platformDir);

  // 3. The main package: the `files` whitelist, and a package.json that declares the platform
  // package and runs nothing on a user's machine (no prepare/install: the binary arrives built).
  const mainDir = join(stage, 'main');
  mkdirSync(mainDir);
  // Like npm pack itself, a `files` entry that does not exist is left out (dist/ is built above).
  for (const entry of pkg.files.filter((f) => !f.startsWith('!'))) {
    const from = join(root, entry);
    if (existsSync(from)) cpSync(from, join(mainDir, entry), { recursive: true });
    else console.warn(`npm run package: ${entry} (in package.json files) does not exist; packing without it`);
  }
  const shipped = { ...pkg };
  delete shipped.scripts;
  // Only a clone builds and tests: nothing for an installer to read.
  delete shipped.devDependencies;
  shipped.optionalDependencies = { ...pkg.optionalDependencies, [platformPkg.name]: pkg.version };
  writeFileSync(join(mainDir, 'package.json'), JSON.stringify(shipped, null, 2) + '\n');
  const mainTarball = pack(mainDir);

  // 4. The binary is in the platform tarball and only there.
  if (tarballFiles(mainTarball).some((f) => f.endsWith('.node'))) fail(`${mainTarball} carries a .node binary`);
  if (!tarballFiles(platformTarball).some((f) => f.endsWith('.node'))) fail(`${platformTarball} has no .node binary`);

  // 5. The standalone executable (a Linux x64 single executable application).
  let standalone = 'not built (a Linux x64 build only)';
  if (process.platform === 'linux' && process.arch === 'x64') {
    const sea = await buildStandalone(root, { out: seaExecutablePath(root), addon });
    standalone = `${sea.path} (${(sea.bytes / 2 ** 20).toFixed(1)} MiB, runs without Node${sea.cached ? '; reused from the cache' : ''})`;
  }
  console.log(`main package:     ${mainTarball}`);
  console.log(`platform package: ${platformTarball}`);
  console.log(`standalone:       ${standalone}`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
