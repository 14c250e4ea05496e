import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { resolveServiceConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('loadConfig', () => {
  let dir: string;
  let file: string;
  const env = { ROCK_MODEL_SERVICE_DATA_DIR: '/tmp/rms-config-test' };

  beforeEach(async () => {
    dir = makeTempDir('config');
    file = join(dir, 'service.yaml');
  });
  afterEach(async () => {
    removeDir(dir);
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
    assert.match((await loadError('request_timeout: 0\n')).message, /request_timeout \(--request-timeout\) must be a number of seconds from 0.001 s/);
  });

  it('reads a proxy rule as a URL, or as {url, apis} naming the agent APIs its upstream speaks itself', async () => {
    await writeFile(
      file,
      ['proxy_rules:', '  claude: {url: "https://anthropic.test/v1", apis: [messages, messages]}', '  gpt: {url: "https://openai.test/v1"}', '  default: http://vllm.test/v1', 'max_tokens_cap: 8192'].join('\n'),
    );
    const config = await loadConfig({ configFile: file, env });
    assert.deepEqual(config.proxyRules, { claude: 'https://anthropic.test/v1', gpt: 'https://openai.test/v1', default: 'http://vllm.test/v1' });
    assert.deepEqual(config.proxyRuleApis, { claude: ['messages'] });
    assert.equal(config.maxTokensCap, 8192);
    assert.equal((await loadConfig({ env })).maxTokensCap, undefined, 'no cap unless configured');
    assert.deepEqual(resolveServiceConfig({ proxyRules: { m: { url: 'http://h/v1', apis: ['responses', 'chat'] } } }, env).proxyRuleApis, { m: ['responses', 'chat'] });
  });

  it('names what is wrong inside a proxy rule, and refuses a max_tokens_cap under 1', async () => {
    assert.match((await loadError('proxy_rules:\n  m: {url: "http://h/v1", apis: [gemini]}\n')).message, /key "proxy_rules.m.apis\[0\]" must be one of "chat", "messages", "responses", got "gemini"/);
    assert.match((await loadError('proxy_rules:\n  m: {url: "http://h/v1", api: [messages]}\n')).message, /key "proxy_rules.m" has an unknown key "api"/);
    assert.match((await loadError('proxy_rules:\n  m: 5\n')).message, /key "proxy_rules.m" must be a URL, or a mapping \{url, apis\}.*, got 5/);
    assert.match((await loadError('proxy_rules:\n  m: {url: nope}\n')).message, /key "proxy_rules.m.url" must be an http\(s\) URL/);
    assert.match((await loadError('max_tokens_cap: 0\n')).message, /max_tokens_cap must be a whole number from 1 to/);
    assert.throws(() => resolveServiceConfig({ proxyRules: { m: { url: 'http://h/v1', apis: ['gemini' as 'chat'] } } }, env), /proxy_rules.m.apis must be a list of "chat", "messages", "responses", got "gemini"/);
  });

  it('never quotes the credentials of a bad upstream URL in its error', async () => {
    for (const yaml of [
      'proxy_base_url: "http ://alice:hunter2@b.test/v1"',
      'proxy_base_url: "http://alice:hunter2@:99999/v1"',
      'proxy_rules:\n  m: "http:/alice:hunter2@:99999/v1"',
      'proxy_rules:\n  m: {url: "https://alice:hunter2@d.test:99999/v1", apis: [messages]}',
      'proxy_rules:\n  m: {url: "https://h:99999/v1?api_key=hunter2"}',
    ]) {
      const err = await loadError(`${yaml}\n`);
      assert.match(err.message, /must be an http\(s\) URL/);
      assert.ok(!err.message.includes('hunter2'), err.message);
    }
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

  describe('bounds', () => {
    it('refuses a 100 MB config file at once, saying the bound, without reading it', async () => {
      await truncate(await writeFile(file, 'port: 1\n').then(() => file), 100 * 1024 * 1024);
      const started = Date.now();
      const err = await loadConfig({ configFile: file, env }).then(() => assert.fail('accepted'), (e: unknown) => e as ConfigError);
      assert.match(err.message, /config file .* is 104857600 bytes, more than the 1048576 bytes allowed/);
      assert.ok(Date.now() - started < 1000);
    });

    it('refuses a fifo at once instead of hanging, and a directory', async function () {
      this.timeout(5000);
      execFileSync('mkfifo', [file]);
      await assert.rejects(loadConfig({ configFile: file, env }), /config file .* is not a regular file \(it is a fifo\)/);
      await assert.rejects(loadConfig({ configFile: dir, env }), /is not a regular file \(it is a directory\)/);
    });

    const refusals: [string, RegExp][] = [
      ['retry_max_attempts: 1000000000', /config file .*: retry_max_attempts must be a whole number from 1 to 100, got 1000000000/],
      ['retry_max_attempts: 0', /retry_max_attempts must be a whole number from 1 to 100, got 0/],
      ['retryable_status_codes: [429, 200]', /retryable_status_codes \(--retryable-status-codes\) must be error statuses from 400 to 599 .*, got 200/],
      ['retryable_status_codes: [101]', /got 101/],
      ['retryable_status_codes: [302]', /got 302/],
      ['request_timeout: 0.0001', /request_timeout \(--request-timeout\) must be a number of seconds from 0.001 s to .*, got 0.0001 s/],
      ['type: proxy\nrequest_timeout: 0.0001', /request_timeout \(--request-timeout\) must be a number of seconds from 0.001 s to 2147483.647 s \(about 24.8 days\), got 0.0001 s/],
      ['type: proxy\nrequest_timeout: 2592000', /request_timeout .* got 2592000 s/],
      ['retry_initial_delay: -1', /retry_initial_delay must be a number of seconds from 0 s to 2147483.647 s/],
      ['retry_max_delay: 1e9', /retry_max_delay must be .* got 1000000000 s/],
      ['record_max_bytes: 10', /record_max_bytes must be a whole number from 1024 to 1073741824 bytes, got 10/],
    ];
    for (const [yaml, message] of refusals) {
      it(`refuses "${yaml}", naming the key and the bound`, async () => {
        const err = await loadError(`${yaml}\n`);
        assert.match(err.message, message);
        assert.ok(err.message.includes(file), err.message);
        assert.equal(err.key, yaml.split('\n').pop()!.split(':')[0]);
      });
    }

    it('accepts the edges of each bound', async () => {
      await writeFile(file, 'retry_max_attempts: 100\nretryable_status_codes: [400, 599]\nrequest_timeout: 0.001\nretry_max_delay: 2147483.647\nrecord_max_bytes: 1024\n');
      const config = await loadConfig({ configFile: file, env });
      assert.equal(config.requestTimeoutMs, 1);
      assert.equal(config.retry.maxDelayMs, 2 ** 31 - 1);
      assert.equal(config.recordMaxBytes, 1024);
    });

    it('checks values set by flags or the library the same way, naming the flag and not the file', async () => {
      await writeFile(file, 'port: 1\n');
      const flag = await loadConfig({ configFile: file, overrides: { requestTimeoutMs: 0.1 }, env }).then(() => assert.fail('accepted'), (e: unknown) => e as ConfigError);
      assert.match(flag.message, /^request_timeout \(--request-timeout\) must be .* got 0.0001 s/);
      assert.throws(() => resolveServiceConfig({ retryableStatusCodes: [200] }, env), /retryable_status_codes .* got 200/);
      assert.throws(() => resolveServiceConfig({ retry: { maxAttempts: 1e9, initialDelayMs: 0 } }, env), /retry_max_attempts/);
      assert.throws(() => resolveServiceConfig({ pollIntervalMs: 2 ** 31 }, env), /poll interval must be/);
    });
  });
});

describe('loadConfig: local mode and agent API keys', () => {
  it('reads agent_api_mode, models, live_page, heartbeat_interval, body_timeout, max_orphaned_turns and the Responses store bounds', async () => {
    const dir = makeTempDir('config-local');
    try {
      const file = join(dir, 'local.yaml');
      await writeFile(
        file,
        [
          'agent_api_mode: native',
          'models: [policy-a, policy-b]',
          'live_page: true',
          'heartbeat_interval: 2.5',
          'body_timeout: 30',
          'max_orphaned_turns: 4',
          'responses_store_max: 10',
          'responses_store_max_bytes: 1048576',
        ].join('\n'),
      );
      const config = await loadConfig({ configFile: file, env: { ROCK_MODEL_SERVICE_DATA_DIR: dir } });
      assert.equal(config.agentApiMode, 'native');
      assert.deepEqual(config.models, ['policy-a', 'policy-b']);
      assert.equal(config.livePage, true);
      assert.equal(config.heartbeatIntervalMs, 2500);
      assert.equal(config.bodyTimeoutMs, 30_000);
      assert.equal(config.maxOrphanedTurns, 4);
      assert.deepEqual(config.responsesStore, { maxResponses: 10, maxBytes: 1048576 });
      await writeFile(file, 'agent_api_mode: chat\n');
      await assert.rejects(loadConfig({ configFile: file, env: {} }), /agent_api_mode" must be one of "translated", "native"/);
      await writeFile(file, 'max_orphaned_turns: 100000\n');
      await assert.rejects(loadConfig({ configFile: file, env: {} }), /max_orphaned_turns must be a whole number from 0 to 1024, got 100000/);
    } finally {
      removeDir(dir);
    }
  });
});
