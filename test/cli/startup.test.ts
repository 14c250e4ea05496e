import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactJson, encodeRequestLine } from '../../src/protocol/index.js';
import { collect, makeTempDir, removeDir, requireBuiltCli, ROCK_BIN, runCli } from '../helpers/cli.js';

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

const HEAVY = /node_modules\/(commander|yaml|zod|prom-client|pino)\/|dist\/(server|proxy|sandbox|http|log)\/|dist\/config\/(load|schema)\.js/;

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
    const loaded = await loadedBy(['model-service', 'anti-call-llm', '--index', '1', '--response', '{"choices":[]}']);
    assert.ok(loaded.some((url) => url.endsWith('/dist/client/model-client.js')), 'the hook saw the client load');
    assert.deepEqual(loaded.filter((url) => HEAVY.test(url)), []);
  });

  it('a call the quick reading does not accept goes to commander, which explains it', async () => {
    const loaded = await loadedBy(['model-service', 'status']);
    assert.ok(loaded.some((url) => url.includes('/node_modules/commander/')));
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
