/**
 * Which modules a child process loads: a module hook, registered through NODE_OPTIONS, that
 * writes every URL the program resolves to a file. Tests use it to keep heavy modules off a
 * path that must stay light.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}`;
const REGISTER = `import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url), { data: { out: process.env.LOADED_OUT } });`;

/** A recorder of loaded modules, writing its files into `dir`. */
export class LoadedModules {
  private runs = 0;

  constructor(private readonly dir: string) {
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'register.mjs'), REGISTER);
  }

  /** @returns the environment that makes a child record what it loads, and a reader of what it recorded. */
  watch(): { env: NodeJS.ProcessEnv; loaded(): string[] } {
    const out = join(this.dir, `loaded-${++this.runs}.txt`);
    writeFileSync(out, '');
    return {
      env: { LOADED_OUT: out, NODE_OPTIONS: `--import ${join(this.dir, 'register.mjs')}` },
      loaded: () => readFileSync(out, 'utf8').split('\n').filter(Boolean),
    };
  }
}
