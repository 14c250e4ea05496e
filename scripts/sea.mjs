// The standalone executable: this Node with the CLI injected as a single executable application
// (SEA), for sandboxes without Node. Node 20 runs one embedded CommonJS script, so the CLI is
// bundled into one CommonJS file (scripts/bundle.mjs); the native scanner rides along as a SEA
// asset, which src/scanner/embedded-binary.ts loads. The executable is tied to this machine's
// platform and libc (linux-x64-gnu here).
//
// Building one copies and rewrites a ~90 MB file (about 6 s here), so the result is kept under
// os.tmpdir(), keyed by a hash of everything that goes in (this Node, the script, the addon):
// `npm run package` and the tests reuse it until a source changes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleStandalone } from './bundle.mjs';
import { SEA_NAME } from './sea-path.mjs';

const require = createRequire(import.meta.url);
// The sentinel every Node that can become a SEA carries (Node's documentation, "Single executable applications").
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const EMBEDDED_ADDON = 'rock_model_service.node'; // src/scanner/embedded-binary.ts reads this key
const CACHE = join(tmpdir(), 'rock-model-service-sea');
const CACHE_KEEP = 3;

function run(command, args, what) {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what}: \`${[command, ...args].join(' ')}\` failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
  return r;
}

/**
 * Builds the standalone executable of the project at `root` (reusing a cached one built from
 * the same inputs) and copies it to `out`. `addon` is the native scanner to embed, or null.
 * @returns `{ path, cached, bytes }`. @throws an Error naming the step that failed.
 */
export async function buildStandalone(root, { out, addon }) {
  const stage = join(CACHE, `stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    const script = join(stage, 'rock.cjs');
    await bundleStandalone(root, script);
    const node = statSync(process.execPath);
    const hash = createHash('sha256').update(`${process.version} ${process.execPath} ${node.size} ${node.mtimeMs}`).update(readFileSync(script));
    if (addon) hash.update(readFileSync(addon));
    const key = hash.digest('hex').slice(0, 16);
    const cachedFile = join(CACHE, key, SEA_NAME);
    const cached = existsSync(cachedFile);
    if (cached) utimesSync(join(CACHE, key), new Date(), new Date());
    else build({ stage, script, addon, target: cachedFile });
    // A clone, not a hard link: nothing done to `out` can reach the cached copy.
    rmSync(out, { force: true });
    copyFileSync(cachedFile, out, constants.COPYFILE_FICLONE);
    chmodSync(out, 0o755);
    prune(key);
    return { path: out, cached, bytes: statSync(out).size };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function build({ stage, script, addon, target }) {
  const blob = join(stage, 'sea.blob');
  const config = {
    main: script,
    output: blob,
    disableExperimentalSEAWarning: true,
    // V8's compiled code for the script travels with it: the executable starts without parsing it again.
    useCodeCache: true,
    assets: addon ? { [EMBEDDED_ADDON]: addon } : {},
  };
  writeFileSync(join(stage, 'sea-config.json'), JSON.stringify(config));
  run(process.execPath, ['--experimental-sea-config', join(stage, 'sea-config.json')], 'preparing the SEA blob');
  const exe = join(stage, SEA_NAME);
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // Node's debug symbols are an eighth of the file and no use in a sandbox.
  if (spawnSync('strip', ['--version']).status === 0) run('strip', [exe], 'stripping the copy of node');
  run(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], 'injecting the SEA blob (postject)');
  mkdirSync(join(target, '..'), { recursive: true });
  renameSync(exe, target);
}

/** Keeps the newest few cached executables (90 MB each); `keep` is the one just used. */
function prune(keep) {
  const entries = readdirSync(CACHE)
    .filter((name) => /^[0-9a-f]{16}$/.test(name) && name !== keep)
    .map((name) => ({ name, mtime: statSync(join(CACHE, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { name } of entries.slice(CACHE_KEEP - 1)) rmSync(join(CACHE, name), { recursive: true, force: true });
}
