import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

describe('loadConfig', () => {
  let dir: string;
  let file: string;
  const env = { ROCK_MODEL_SERVICE_DATA_DIR: '/tmp/rms-config-test' };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rms-config-'));
    file = join(dir, 'service.yaml');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loadError(yaml: string, overrides = {}): Promise<ConfigError> {
    await writeFile(file, yaml);
    const err = await loadConfig({ configFile: file, overrides, env }).then(
      () => assert.fail('the config was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'RMS_CONFIG');
    return err;
  }

  it('maps every snake_case key of the file to the resolved config, durations in seconds', async () => {
    await writeFile(
      file,
      [
        'type: proxy',
        'host: 127.0.0.1',
        'port: 9000',
        'proxy_base_url: http://127.0.0.1:1/v1',
        'proxy_rules:',
        '  gpt-4: https://example.test/v1',
        '  default: http://127.0.0.1:2/v1',
        'retryable_status_codes: [429, 503]',
        'request_timeout: 1.5',
        `recording_file: ${join(dir, 'rec.jsonl')}`,
        `data_dir: ${dir}`,
        'body_limit: 1024',
        'retry_max_attempts: 3',
        'retry_initial_delay: 0.01',
        'retry_max_delay: 0.1',
        'log_level: warn',
      ].join('\n'),
    );
    const config = await loadConfig({ configFile: file, env });
    assert.equal(config.type, 'proxy');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 9000);
    assert.equal(config.proxyBaseUrl, 'http://127.0.0.1:1/v1');
    assert.deepEqual(config.proxyRules, { 'gpt-4': 'https://example.test/v1', default: 'http://127.0.0.1:2/v1' });
    assert.deepEqual(config.retryableStatusCodes, [429, 503]);
    assert.equal(config.requestTimeoutMs, 1500);
    assert.equal(config.recordingFile, join(dir, 'rec.jsonl'));
    assert.equal(config.dataDir, dir);
    assert.equal(config.bodyLimitBytes, 1024);
    assert.deepEqual(config.retry, { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 100 });
    assert.equal(config.logLevel, 'warn');
  });

  it('applies the environment and the defaults when there is no file', async () => {
    const config = await loadConfig({ overrides: { type: 'proxy' }, env });
    assert.equal(config.port, 8080);
    assert.equal(config.requestTimeoutMs, 120_000);
    assert.equal(config.recordingFile, '/tmp/rms-config-test/LLMTraj.jsonl');
    assert.deepEqual(config.retry, { maxAttempts: 6, initialDelayMs: 2000, maxDelayMs: 60_000 });
  });

  it('lets each flag that is set win over the file, and keeps the file for the rest', async () => {
    await writeFile(file, 'port: 9000\nhost: 10.0.0.1\nretry_max_attempts: 2\nretry_initial_delay: 1\n');
    const config = await loadConfig({
      configFile: file,
      overrides: { port: 9100, host: undefined, retry: { initialDelayMs: 5 } },
      env,
    });
    assert.equal(config.port, 9100);
    assert.equal(config.host, '10.0.0.1');
    assert.deepEqual(config.retry, { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 60_000 });
  });

  it('treats an empty file and an empty value as "not set"', async () => {
    await writeFile(file, '');
    assert.equal((await loadConfig({ configFile: file, env })).port, 8080);
    await writeFile(file, 'replay_file:\nport: 1\n');
    const config = await loadConfig({ configFile: file, env });
    assert.equal(config.replayFile, undefined);
    assert.equal(config.port, 1);
  });

  it('names the unknown key and the file', async () => {
    const err = await loadError('port: 1\nproxy_url: http://x\n');
    assert.equal(err.key, 'proxy_url');
    assert.match(err.message, /unknown key "proxy_url"/);
    assert.ok(err.message.includes(file));
  });

  it('names the key, the file and the value of a wrong type', async () => {
    const err = await loadError('port: eighty\n');
    assert.equal(err.key, 'port');
    assert.match(err.message, /key "port" must be a number, got "eighty"/);
    assert.ok(err.message.includes(file));
  });

  it('names the element inside a list or a mapping that is wrong', async () => {
    assert.match((await loadError('retryable_status_codes: [429, "x"]\n')).message, /key "retryable_status_codes\[1\]"/);
    const rules = await loadError('proxy_rules:\n  gpt-4: not-a-url\n');
    assert.equal(rules.key, 'proxy_rules');
    assert.match(rules.message, /key "proxy_rules.gpt-4" must be an http\(s\) URL/);
    assert.match((await loadError('type: remote\n')).message, /key "type" must be one of "local", "proxy", got "remote"/);
    assert.match((await loadError('request_timeout: 0\n')).message, /key "request_timeout" must be greater than 0/);
  });

  it('refuses a missing file, a file that is not YAML and a YAML that is not a mapping, naming the file', async () => {
    const missing = join(dir, 'absent.yaml');
    const err = await loadConfig({ configFile: missing, env }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ConfigError,
    );
    assert.ok(err instanceof ConfigError);
    assert.ok(err.message.includes(missing));
    assert.match((await loadError('port: [1\n')).message, /is not valid YAML/);
    assert.match((await loadError('- port\n- 1\n')).message, /must be a mapping/);
  });

  it('refuses recording_file with replay_file whether they come from the file, the flags or one each', async () => {
    const both = await loadError('recording_file: /tmp/a.jsonl\nreplay_file: /tmp/b.jsonl\n');
    assert.match(both.message, /recording_file in .* and replay_file in .* are both set/);
    const mixed = await loadError('recording_file: /tmp/a.jsonl\n', { replayFile: '/tmp/b.jsonl' });
    assert.match(mixed.message, /recording_file in .*service\.yaml and --replay-file are both set/);
    const flags = await loadConfig({ overrides: { recordingFile: '/a', replayFile: '/b' }, env }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ConfigError,
    );
    assert.match(flags.message, /--recording-file and --replay-file are both set/);
  });

  it('accepts a replay file alone: the recording default does not count as set', async () => {
    const config = await loadConfig({ overrides: { type: 'proxy', replayFile: '/tmp/r.jsonl' }, env });
    assert.equal(config.replayFile, '/tmp/r.jsonl');
    assert.equal(config.recordingFile, undefined);
  });
});
