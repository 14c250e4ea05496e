/**
 * Which modules a child process loads: a module hook, registered through NODE_OPTIONS, that
 * writes every URL the program resolves to a file, and, for CommonJS (which those hooks do not
 * see in Node 20), every file in require's cache when the process exits. Tests use it to keep
 * heavy modules off a path that must stay light. The CLI runs the bundle (dist/), so a loaded file stands for the
 * source modules inside it, as the build's metafile records them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from './cli.js';

const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}`;
const CJS_RECORDER = `'use strict';
const { appendFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
process.on('exit', () => {
  const urls = Object.keys(require.cache).map((file) => pathToFileURL(file).href);
  if (urls.length > 0) appendFileSync(process.env.LOADED_OUT, urls.join('\\n') + '\\n');
});`;
const REGISTER = `import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url), { data: { out: process.env.LOADED_OUT } });`;

/** A recorder of loaded modules, writing its files into `dir`. */
export class LoadedModules {
  private runs = 0;

  constructor(private readonly dir: string) {
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'register.mjs'), REGISTER);
    writeFileSync(join(dir, 'cjs-recorder.cjs'), CJS_RECORDER);
  }

  /**
   * @returns the environment that makes a child record what it loads, and readers of what it
   *   recorded: the URLs, and the package's files with the source modules each holds.
   */
  watch(): { env: NodeJS.ProcessEnv; loaded(): string[]; sources(): Map<string, string[]> } {
    const out = join(this.dir, `loaded-${++this.runs}.txt`);
    writeFileSync(out, '');
    const loaded = (): string[] => [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean))];
    return {
      env: { LOADED_OUT: out, NODE_OPTIONS: `--require ${join(this.dir, 'cjs-recorder.cjs')} --import ${join(this.dir, 'register.mjs')}` },
      loaded,
      sources: () => sourcesOf(loaded()),
    };
  }
}

/** The source modules inside each output file of the bundle, from the build's metafile (scripts/bundle.mjs). */
function bundleInputs(): Map<string, string[]> {
  const meta = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return new Map(Object.entries(meta.outputs).map(([file, output]) => [join(PROJECT_ROOT, file), Object.keys(output.inputs)]));
}

/** The package's files among `urls`, each with the source modules it holds (itself, for a file that is not bundled output). */
export function sourcesOf(urls: readonly string[]): Map<string, string[]> {
  const inputs = bundleInputs();
  const files = urls.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)).filter((file) => file.startsWith(PROJECT_ROOT));
  return new Map(files.map((file) => [file, inputs.get(file) ?? [file.slice(PROJECT_ROOT.length)]]));
}
