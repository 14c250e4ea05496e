// The published runtime is one esbuild bundle of src/ with every third-party package inside,
// so the packed package.json needs no runtime dependencies (docs/packaging.md says why and
// what it measured).
//
// Code-split: entries `dist/lib/index.js` (the library) and `dist/cli/main.js` (the CLI), chunks
// in `dist/chunks/`: two of our own (core and common, see planGroups) and, for the rest,
// esbuild's, where every `import()` starts a chunk that loads only when it runs. So an anti-call
// turn reads none of the service, proxy, YAML, zod or commander code, and each module exists once
// (the error classes among them). Every output file sits two directories below the package root,
// as every module does under src/<room>/, so `new URL('../../…', import.meta.url)` names the
// package root in src/ (tsx) and in dist/ alike.
//
// esbuild splits ES modules only; the split files are then turned into CommonJS one by one
// (`import()` into a deferred `require`), and dist/package.json makes dist/ a CommonJS scope.
// Every CLI command is a new process, and Node's ES module loader costs one: an anti-call turn
// as ES modules took 110-129 ms where the same files as CommonJS took 92-117 ms and `node -e 0`
// 87-88 ms (docs/packaging.md). `import` of the package goes through dist/index.mjs, which
// re-exports the CommonJS library, so both entries share one copy of each module.
//
// The standalone executable's script (see scripts/sea.mjs) is the same CLI as one CommonJS
// file: Node 20 runs one embedded CommonJS script and nothing from disk.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import * as esbuild from 'esbuild';

/** The entries of the ESM runtime, as esbuild entry names (paths under dist/, without `.js`). */
export const RUNTIME_ENTRIES = { 'lib/index': 'src/index.ts', 'cli/main': 'src/cli/main.ts' };
/** Where the build records which source modules each output file holds (test/cli/startup.test.ts reads it). */
export const METAFILE = 'dist/bundle-meta.json';
const LICENSES = 'dist/THIRD-PARTY-LICENSES.txt';

// In CommonJS, `import.meta.url` is this: the output file's own URL.
const IMPORT_META_URL = "var __rmsImportMetaUrl = require('node:url').pathToFileURL(__filename).href;";

// Class and function names show in error names and stack traces: never rename them.
const TRANSFORM_MINIFY = { minifyWhitespace: true, minifySyntax: true, legalComments: 'none' };
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  ...TRANSFORM_MINIFY,
  logLevel: 'warning',
  metafile: true,
};

/**
 * Bundles src/ into `<root>/dist` (CommonJS, split as ES modules first); writes the metafile,
 * the third-party licences, and the entries `dist/index.js` (`require`) and `dist/index.mjs` (`import`).
 * @returns the metafile of all passes. @throws esbuild's error when the sources do not bundle,
 *   or an Error when two modules of one group export the same name.
 */
export async function bundleRuntime(root) {
  const outdir = join(root, 'dist');
  // Chunk names carry hashes: an older build's would stay beside the new ones.
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  const { groups, lazyEntries } = await planGroups(root);
  const groupOf = new Map(groups.flatMap(({ chunk, modules }) => modules.map((m) => [join(root, m), chunk])));
  const lazyNames = new Map(Object.entries(lazyEntries).map(([name, path]) => [join(root, path), name]));
  const outputs = {};
  const inputs = {};
  for (const { chunk, modules } of groups) {
    const { metafile } = await esbuild.build({
      ...common,
      absWorkingDir: root,
      stdin: { contents: modules.map((m) => `export * from './${m}';`).join('\n'), resolveDir: root, sourcefile: `${chunk}.ts`, loader: 'ts' },
      outfile: join(outdir, chunk),
      format: 'esm',
      plugins: [importGroupsFromTheirChunks(groupOf, chunk, lazyNames), optionalPeersStayOutside(), versionAsConstant(root)],
    });
    await checkGroupExports(root, chunk, modules, metafile.outputs[`dist/${chunk}`].exports);
    Object.assign(inputs, metafile.inputs);
    Object.assign(outputs, metafile.outputs);
  }
  const rest = await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: { ...RUNTIME_ENTRIES, ...lazyEntries },
    outdir,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [importGroupsFromTheirChunks(groupOf, null, lazyNames), namedExportsOfLazyPackages(root), optionalPeersStayOutside(), versionAsConstant(root)],
  });
  const metafile = { inputs: { ...inputs, ...rest.metafile.inputs }, outputs: { ...outputs, ...rest.metafile.outputs } };
  for (const file of Object.keys(metafile.outputs)) await toCommonJs(join(root, file));
  writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
  writeFileSync(join(outdir, 'index.js'), "'use strict';\nmodule.exports = require('./lib/index.js');\n");
  writeFileSync(join(outdir, 'index.mjs'), "export * from './lib/index.js';\n");
  writeFileSync(join(outdir, 'index.d.mts'), "export * from './index.js';\n");
  writeFileSync(join(root, METAFILE), JSON.stringify(metafile));
  writeFileSync(join(root, LICENSES), thirdPartyLicenses(root, metafile));
  return metafile;
}

// Every CLI command starts a process, and each ES module it loads costs about 0.8 ms of CPU
// here: esbuild's own splitting cut the modules of an anti-call turn into twelve chunks, which
// made a turn 1.30x `node -e 0` where one file was 1.15x, and a service start loaded sixteen.
// So src/'s light modules go into two chunks of our own, which every other output file imports
// instead of keeping copies (one copy of each module, the error classes among them):
//   core    what an anti-call turn runs, and all it imports (a turn that must wait loads the
//           follower): nothing more, since each Node built-in it imports (node:http 3 ms,
//           node:crypto 2 ms) is paid by every turn;
//   common  every other module of src/ outside LAZY_ROOMS that imports nothing lazy statically
//           (the other commands, config, process state).
// What stays out, in chunks loaded on first use: LAZY_ROOMS and third-party code. docs/packaging.md has the figures.
const CORE_ROOTS = ['src/cli/commands/anti-call-llm.ts'];
const CORE_ROOTS_STATIC_IMPORTS_OF = ['src/cli/main.ts'];
const LAZY_ROOMS = /^src\/(server|http|log|wire|proxy|trace|sandbox)\/|^src\/config\/(load|schema)\.ts$|^src\/cli\/program\.ts$/;
const isLazy = (path) => LAZY_ROOMS.test(path) || !path.startsWith('src/');

/**
 * Returns the two groups (chunk name and source modules, paths relative to `root`), and, named
 * by their output file, the modules outside them that they load with `import()`: those become
 * entries of the split build, so that a group can name their files.
 * @throws an Error when the anti-call turn reaches a lazy module.
 */
async function planGroups(root) {
  const { metafile } = await esbuild.build({
    absWorkingDir: root,
    entryPoints: RUNTIME_ENTRIES,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    outdir: join(root, 'dist'),
    write: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [namedExportsOfLazyPackages(root), optionalPeersStayOutside(), versionAsConstant(root)],
  });
  const importsOf = (path) => metafile.inputs[path].imports.filter((i) => !i.external);
  const core = new Set();
  const visit = (path) => {
    if (core.has(path)) return;
    if (isLazy(path)) throw new Error(`the anti-call turn reaches ${path}, which must load lazily (LAZY_ROOMS in scripts/bundle.mjs)`);
    core.add(path);
    for (const i of importsOf(path)) visit(i.path);
  };
  for (const entry of CORE_ROOTS_STATIC_IMPORTS_OF) for (const i of importsOf(entry)) if (i.kind === 'import-statement') visit(i.path);
  for (const rootModule of CORE_ROOTS) visit(rootModule);

  // Lazy, and whatever imports something lazy statically (it would load it at once).
  const lazy = new Set(Object.keys(metafile.inputs).filter(isLazy));
  for (let grew = true; grew; ) {
    grew = false;
    for (const path of Object.keys(metafile.inputs)) {
      if (!lazy.has(path) && importsOf(path).some((i) => i.kind !== 'dynamic-import' && lazy.has(i.path))) {
        lazy.add(path);
        grew = true;
      }
    }
  }
  const entries = new Set(Object.values(RUNTIME_ENTRIES));
  const commonModules = Object.keys(metafile.inputs).filter((path) => path.startsWith('src/') && !entries.has(path) && !core.has(path) && !lazy.has(path));
  const grouped = new Set([...core, ...commonModules]);
  const lazyEntries = {};
  for (const path of grouped) {
    for (const i of importsOf(path)) {
      if (i.kind === 'dynamic-import' && !grouped.has(i.path)) lazyEntries[`chunks/lazy-${i.path.replace(/^src\//, '').replace(/\.ts$/, '').replace(/[^\w.-]+/g, '-')}`] = i.path;
    }
  }
  return {
    groups: [
      { chunk: 'chunks/core.js', modules: [...core].sort() },
      { chunk: 'chunks/common.js', modules: commonModules.sort() },
    ],
    lazyEntries,
  };
}

/**
 * An esbuild plugin: an import of a grouped module, from outside its group, becomes an import of
 * the group's chunk; in a group's own build (`building`), an `import()` of a module no group
 * holds loads that module's own entry file. Every output file sits at dist/<dir>/<file>.js, so
 * one relative path reaches a chunk from all of them.
 */
function importGroupsFromTheirChunks(groupOf, building, lazyNames) {
  return {
    name: 'import-groups-from-their-chunks',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.kind === 'entry-point') return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
        if (resolved.errors.length > 0 || resolved.external) return undefined;
        const group = groupOf.get(resolved.path);
        if (group !== undefined) return group === building ? undefined : { path: `../${group}`, external: true };
        if (building === null || args.kind !== 'dynamic-import') return undefined;
        const name = lazyNames.get(resolved.path);
        if (name === undefined) return { errors: [{ text: `${args.path} is imported lazily by ${building} but is no entry of the split build (planGroups)` }] };
        return { path: `../${name}.js`, external: true };
      });
    },
  };
}

/** Throws unless `chunk` exports every name each of its modules exports (`export *` drops a name two modules export). */
async function checkGroupExports(root, chunk, modules, exported) {
  const { metafile } = await esbuild.build({ absWorkingDir: root, entryPoints: modules, outdir: join(root, 'dist', 'exports-check'), write: false, metafile: true, logLevel: 'warning' });
  const have = new Set(exported);
  const lost = Object.values(metafile.outputs).flatMap((o) => o.exports.filter((name) => name !== 'default' && !have.has(name)).map((name) => `${name} (${o.entryPoint})`));
  if (lost.length > 0) {
    throw new Error(`${chunk} cannot export ${lost.join(', ')}: another of its modules exports the same name. Rename one of them.`);
  }
  const defaults = Object.values(metafile.outputs).filter((o) => o.exports.includes('default')).map((o) => o.entryPoint);
  if (defaults.length > 0) throw new Error(`modules of ${chunk} cannot have a default export (it re-exports names only): ${defaults.join(', ')}`);
}

/**
 * Rewrites one ES module of the split build, in place, as CommonJS: imports become `require`,
 * `import()` a `require` deferred to the same point, and `import.meta.url` the file's own URL.
 * @throws esbuild's error when the file cannot be CommonJS (a top-level await).
 */
async function toCommonJs(file) {
  const code = readFileSync(file, 'utf8');
  const usesUrl = code.includes('import.meta.url');
  const { code: cjs } = await esbuild.transform(code, {
    ...TRANSFORM_MINIFY,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    define: usesUrl ? { 'import.meta.url': '__rmsImportMetaUrl' } : {},
    banner: usesUrl ? IMPORT_META_URL : '',
    logLevel: 'warning',
  });
  writeFileSync(file, cjs);
}

/**
 * Bundles the CLI into one CommonJS file at `outfile` for the standalone executable.
 * `import.meta.url` becomes the executable's own file URL.
 * @returns esbuild's metafile. @throws esbuild's error when the sources do not bundle.
 */
export async function bundleStandalone(root, outfile) {
  mkdirSync(dirname(outfile), { recursive: true });
  const { metafile } = await esbuild.build({
    ...common,
    absWorkingDir: root,
    entryPoints: [RUNTIME_ENTRIES['cli/main']],
    outfile,
    format: 'cjs',
    define: { 'import.meta.url': '__rmsImportMetaUrl' },
    banner: { js: IMPORT_META_URL },
    plugins: [optionalPeersStayOutside(), versionAsConstant(root)],
  });
  return metafile;
}

/**
 * An esbuild plugin: src/version.ts reads the version from package.json beside it at run time;
 * in the bundle it is a constant, because the standalone executable has no package.json.
 */
function versionAsConstant(root) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return {
    name: 'version-as-constant',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `/** The package's version, written in by scripts/bundle.mjs. */\nexport const VERSION = ${JSON.stringify(version)};\n`,
        loader: 'ts',
      }));
    },
  };
}

/**
 * An esbuild plugin: `await import('yaml')` of a CommonJS package, split into its own chunk,
 * gives esbuild's chunk namespace, whose only export is `default` (Node itself would add the
 * named exports it detects). So such an import goes through a small module that names every
 * export the package has, read from the package itself at build time.
 */
function namedExportsOfLazyPackages(root) {
  const requireFromRoot = createRequire(join(root, 'package.json'));
  return {
    name: 'named-exports-of-lazy-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        // Our own imports only: a package's own import() of its optional peers is another matter (optionalPeersStayOutside).
        if (args.kind !== 'dynamic-import' || args.path.startsWith('node:') || args.importer.includes('/node_modules/')) return undefined;
        return { path: args.path, namespace: 'lazy-package' };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => {
        const names = Object.keys(requireFromRoot(args.path)).filter((name) => name !== 'default' && /^[A-Za-z_$][\w$]*$/.test(name));
        return {
          contents: `import * as all from ${JSON.stringify(args.path)};\nexport const { ${names.join(', ')} } = all;\nexport default all.default;\n`,
          resolveDir: root,
          loader: 'js',
        };
      });
    },
  };
}

/**
 * Deletes the declaration files under `<root>/dist` that the public types (dist/index.d.ts)
 * do not reach: tsc writes one per module, and those of the service and proxy name packages
 * the bundle carries but an installation does not have.
 * @returns how many were kept.
 */
export function pruneDeclarations(root) {
  const dist = join(root, 'dist');
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from |import\()['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(join(dirname(file), specifier.replace(/\.js$/, '.d.ts')));
    }
  };
  visit(join(dist, 'index.d.ts'));
  const all = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.d.ts')).map((f) => join(dist, f));
  for (const file of all) if (!reached.has(file)) rmSync(file);
  return reached.size;
}

/**
 * An esbuild plugin: a package's import of an optional peer dependency that is not installed
 * (proxy-agent-negotiate's `import('kerberos')`, for Negotiate proxy authentication) is left
 * as an import at run time, where the package handles its absence as it would unbundled, and
 * where a user who installs the peer gets it. Any other import that does not resolve still
 * fails the build.
 */
function optionalPeersStayOutside() {
  return {
    name: 'optional-peers-stay-outside',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('node:') || !args.importer.includes('/node_modules/')) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'resolving' });
        if (resolved.errors.length === 0) return undefined;
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        const manifest = packageJsonOf(args.importer);
        const optional = manifest?.peerDependenciesMeta?.[name]?.optional === true || manifest?.optionalDependencies?.[name] !== undefined;
        return optional ? { path: args.path, external: true } : undefined;
      });
    },
  };
}

/** The package.json of the package that holds `file` (the nearest one above it), or undefined. */
function packageJsonOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      // no package.json at this level
    }
  }
  return undefined;
}

/** The licence text of every third-party package inside the bundle, for the notice their licences require. */
function thirdPartyLicenses(root, metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match && !packages.has(match[1])) packages.set(match[1], licenseOf(join(root, match[1])));
  }
  const sections = [...packages].sort(([a], [b]) => a.localeCompare(b)).map(([dir, text]) => {
    const { name, version, license } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    return `${name}@${version} (${license ?? 'see below'})\n\n${text ?? `no licence file in ${relative(root, dir)}`}`;
  });
  return `rock-model-service bundles these packages:\n\n${sections.join(`\n\n${'-'.repeat(72)}\n\n`)}\n`;
}

function licenseOf(dir) {
  for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE', 'License.md']) {
    try {
      return readFileSync(join(dir, name), 'utf8').trim();
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}
