// Builds what a clone needs: the native addon (optional), the type declarations (tsc) and the
// bundled runtime (esbuild, scripts/bundle.mjs) in dist/.
// A failed addon build is not fatal: the TypeScript scanner takes over, and `status` says so.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
// The tools' output goes to stderr: npm prints what `prepare` writes to stdout into the stdout
// of `npm pack --json`, whose JSON must parse.
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: ['inherit', process.stderr, process.stderr], ...opts });

// node-gyp downloads Node's headers unless told where they are. When the running Node ships
// its own (a distribution package puts them in <prefix>/include/node) and they are its exact
// version, use them: the build then works offline, as in a sandbox.
function localHeaders() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  const versionHeader = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionHeader)) return [];
  const text = readFileSync(versionHeader, 'utf8');
  const part = (name) => text.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  const version = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return version === process.versions.node ? [`--nodedir=${prefix}`] : [];
}

if (process.env.ROCK_MS_SKIP_NATIVE_BUILD === '1') {
  console.error('rock-model-service: ROCK_MS_SKIP_NATIVE_BUILD=1, not building the native addon');
} else {
  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    nodeGyp = process.env.npm_config_node_gyp;
  }
  const gyp = nodeGyp ? run(process.execPath, [nodeGyp, 'rebuild', '--loglevel=warn', ...localHeaders()]) : { status: 1 };
  if (gyp.status !== 0) {
    console.error('rock-model-service: the native addon did not build; the TypeScript scanner will be used (see the output above).');
  }
}

// A clean dist/: whatever an older build left there would be packed.
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const { bundleRuntime, pruneDeclarations } = await import('./bundle.mjs');
pruneDeclarations(root);
await bundleRuntime(root);
