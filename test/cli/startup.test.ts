import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactJson, encodeRequestLine } from '../../src/protocol/index.js';
import { collect, makeTempDir, PROJECT_ROOT, removeDir, requireBuiltCli, ROCK_BIN, runCli } from '../helpers/cli.js';

/** A module hook that writes every URL the program resolves to a file. */
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

/** Source modules an anti-call turn must not load: parsers, the service, proxy mode, config files, metrics, logging, the SDK. */
const HEAVY = /node_modules\/(commander|yaml|zod|prom-client|pino)\/|^src\/(server|http|wire|proxy|sandbox|log|trace)\/|^src\/config\/(load|schema)\.ts$/;
/** Each ES module a turn loads costs about 0.8 ms of CPU here: bin/rock.js, the CLI entry and the core chunk (scripts/bundle.mjs). */
const TURN_FILE_BUDGET = 3;

/** The source modules inside each output file of the bundle, from the build's metafile (scripts/bundle.mjs). */
function bundleInputs(): Map<string, string[]> {
  const meta = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', 'bundle-meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return new Map(Object.entries(meta.outputs).map(([file, output]) => [join(PROJECT_ROOT, file), Object.keys(output.inputs)]));
}

/** The files of the package among `urls`, each with the source modules it holds (itself, for a file that is not bundled output). */
function sourcesOf(urls: string[]): Map<string, string[]> {
  const inputs = bundleInputs();
  const files = urls.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)).filter((file) => file.startsWith(PROJECT_ROOT));
  return new Map(files.map((file) => [file, inputs.get(file) ?? [file.slice(PROJECT_ROOT.length)]]));
}

describe('rock start-up', () => {
  let dir: string;
  before(requireBuiltCli);
  beforeEach(() => {
    dir = makeTempDir('startup');
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(join(dir, 'register.mjs'), REGISTER);
  });
  afterEach(() => removeDir(dir));

  async function loadedBy(args: string[]): Promise<string[]> {
    const out = join(dir, 'loaded.txt');
    writeFileSync(out, '');
    const result = await runCli(args, {
      cwd: dir,
      env: { ROCK_MODEL_SERVICE_DATA_DIR: dir, LOADED_OUT: out, NODE_OPTIONS: `--import ${join(dir, 'register.mjs')}` },
    });
    assert.equal(result.code, 0, result.stderr);
    return readFileSync(out, 'utf8').split('\n').filter(Boolean);
  }

  it('an anti-call turn loads no parser, server, YAML, zod, metrics, logging or proxy module', async () => {
    const request = compactJson('{"model":"m","messages":[]}');
    writeFileSync(join(dir, 'LLMService.log'), encodeRequestLine(request, 1).toString() + encodeRequestLine(request, 2).toString());
    const loaded = sourcesOf(await loadedBy(['model-service', 'anti-call-llm', '--index', '1', '--response', '{"choices":[]}']));
    const sources = [...loaded.values()].flat();
    assert.ok(sources.includes('src/client/model-client.ts'), `the hook saw the client load: ${[...loaded.keys()].join(', ')}`);
    assert.deepEqual(sources.filter((source) => HEAVY.test(source)), []);
    assert.ok(loaded.size <= TURN_FILE_BUDGET, `a turn loads ${loaded.size} files of the package, over its budget of ${TURN_FILE_BUDGET}: ${[...loaded.keys()].join(', ')}`);
  });

  it('a call the quick reading does not accept goes to commander, which explains it', async () => {
    const loaded = sourcesOf(await loadedBy(['model-service', 'status']));
    assert.ok([...loaded.values()].flat().some((source) => source.includes('node_modules/commander/')));
    const result = await runCli(['model-service', 'anti-call-llm', '--index', '0', '--nope'], { cwd: dir, env: { ROCK_MODEL_SERVICE_DATA_DIR: dir } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option '--nope'/);
  });

  it('the rock-model-service binary takes the commands without the model-service group', async () => {
    const alias = join(dir, 'rock-model-service');
    symlinkSync(ROCK_BIN, alias);
    const child = spawn(process.execPath, [alias, 'status'], { cwd: dir, env: { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await collect(child);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^status: not running$/m);
  });
});
