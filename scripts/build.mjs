// Builds what a clone needs: the native addon (optional) and the TypeScript.
// A failed addon build is not fatal: the TypeScript scanner takes over, and `status` says so.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

if (process.env.ROCK_MS_SKIP_NATIVE_BUILD === '1') {
  console.error('rock-model-service: ROCK_MS_SKIP_NATIVE_BUILD=1, not building the native addon');
} else {
  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    nodeGyp = process.env.npm_config_node_gyp;
  }
  const gyp = nodeGyp ? run(process.execPath, [nodeGyp, 'rebuild', '--loglevel=warn']) : { status: 1 };
  if (gyp.status !== 0) {
    console.error('rock-model-service: the native addon did not build; the TypeScript scanner will be used (see the output above).');
  }
}

const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
process.exit(tsc.status ?? 1);
