import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactJson, encodeRequestLine } from '../../src/protocol/index.js';
import { collect, requireBuiltCli, ROCK_BIN, runCli } from '../helpers/cli.js';
import { LoadedModules } from '../helpers/loaded-modules.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

/** Source modules an anti-call turn must not load: parsers, the service, proxy mode, config files, metrics, logging, the SDK. */
const HEAVY = /node_modules\/(commander|yaml|zod|prom-client|pino)\/|^src\/(server|http|wire|proxy|sandbox|log|trace)\/|^src\/config\/(load|schema)\.ts$/;
/** Each file of JavaScript a turn loads costs CPU: bin/rock.js, the CLI entry and the core chunk (scripts/bundle.mjs); the addon is not counted. */
const TURN_FILE_BUDGET = 3;

describe('rock start-up', () => {
  let dir: string;
  before(requireBuiltCli);
  beforeEach(() => (dir = makeTempDir('startup')));
  afterEach(() => removeDir(dir));

  /** The package's files `rock …args` loads, each with the source modules it holds. */
  async function loadedBy(args: string[]): Promise<Map<string, string[]>> {
    const watch = new LoadedModules(dir).watch();
    const result = await runCli(args, { cwd: dir, env: { ROCK_MODEL_SERVICE_DATA_DIR: dir, ...watch.env } });
    assert.equal(result.code, 0, result.stderr);
    return watch.sources();
  }

  it('an anti-call turn loads no parser, server, YAML, zod, metrics, logging or proxy module', async () => {
    const request = compactJson('{"model":"m","messages":[]}');
    writeFileSync(join(dir, 'LLMService.log'), encodeRequestLine(request, 1).toString() + encodeRequestLine(request, 2).toString());
    const loaded = await loadedBy(['model-service', 'anti-call-llm', '--index', '1', '--response', '{"choices":[]}']);
    const sources = [...loaded.values()].flat();
    assert.ok(sources.includes('src/client/model-client.ts'), `the hook saw the client load: ${[...loaded.keys()].join(', ')}`);
    assert.deepEqual(sources.filter((source) => HEAVY.test(source)), []);
    const scripts = [...loaded.keys()].filter((file) => !file.endsWith('.node'));
    assert.ok(scripts.length <= TURN_FILE_BUDGET, `a turn loads ${scripts.length} files of the package's JavaScript, over its budget of ${TURN_FILE_BUDGET}: ${scripts.join(', ')}`);
  });

  it('`--version` loads no parser either', async () => {
    const sources = [...(await loadedBy(['--version'])).values()].flat();
    assert.ok(sources.includes('src/version.ts'), `the hook saw the version load: ${sources.join(', ')}`);
    assert.deepEqual(sources.filter((source) => HEAVY.test(source)), []);
  });

  it('a call the quick reading does not accept goes to commander, which explains it', async () => {
    const loaded = await loadedBy(['model-service', 'status']);
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
