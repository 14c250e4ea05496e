import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { checkUpstreamBases, redactedUpstreams, upstreamRoute, upstreamUrl } from '../../src/proxy/upstream-base.js';

describe('upstreamRoute', () => {
  const rules = { 'gpt-4': 'https://a.test/v1', default: 'https://d.test/v1' };
  const config = (proxyBaseUrl: string | undefined, proxyRules: Record<string, string> = rules, proxyRuleApis = {}) => ({ proxyBaseUrl, proxyRules, proxyRuleApis });

  it('prefers proxy_base_url, then proxy_rules[model], then proxy_rules.default', () => {
    assert.equal(upstreamRoute(config('http://b.test/v1'), 'gpt-4')?.base, 'http://b.test/v1');
    assert.equal(upstreamRoute(config(undefined), 'gpt-4')?.base, 'https://a.test/v1');
    assert.equal(upstreamRoute(config(undefined), 'other')?.base, 'https://d.test/v1');
    assert.equal(upstreamRoute(config(undefined), undefined)?.base, 'https://d.test/v1');
  });

  it('finds nothing without a matching rule or a default, even for inherited names', () => {
    assert.equal(upstreamRoute(config(undefined, { 'gpt-4': 'https://a.test/v1' }), 'toString'), undefined);
  });

  it("gives the APIs of the rule that matched: the model's own, else the default's; proxy_base_url passes nothing through", () => {
    const apis = { 'gpt-4': ['responses' as const], default: ['messages' as const] };
    assert.deepEqual(upstreamRoute(config(undefined, rules, apis), 'gpt-4'), { base: 'https://a.test/v1', key: 'proxy_rules.gpt-4', apis: ['responses'] });
    assert.deepEqual(upstreamRoute(config(undefined, rules, apis), 'claude'), { base: 'https://d.test/v1', key: 'proxy_rules.default', apis: ['messages'] });
    assert.deepEqual(upstreamRoute(config(undefined, rules, { default: ['messages' as const] }), 'gpt-4')?.apis, []);
    assert.deepEqual(upstreamRoute(config('http://b.test/v1', rules, apis), 'gpt-4')?.apis, []);
  });
});

describe('upstreamUrl', () => {
  it('appends the path with or without a trailing slash', () => {
    assert.equal(upstreamUrl('http://h:1/v1', '/chat/completions').href, 'http://h:1/v1/chat/completions');
    assert.equal(upstreamUrl('http://h:1/v1//', '/chat/completions').href, 'http://h:1/v1/chat/completions');
    assert.equal(upstreamUrl('http://h:1', '/messages').href, 'http://h:1/messages');
  });

  it("appends the path to the base's path and keeps its query a query (Azure's ?api-version=)", () => {
    const azure = 'https://r.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-06-01';
    assert.equal(upstreamUrl(azure, '/chat/completions').href, 'https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01');
    assert.equal(upstreamUrl('https://h/v1/?api-version=1#x', '/responses').href, 'https://h/v1/responses?api-version=1');
  });

  it("adds the client's query string after the base's", () => {
    assert.equal(upstreamUrl('https://h/v1', '/messages', 'beta=true').href, 'https://h/v1/messages?beta=true');
    assert.equal(upstreamUrl('https://h/v1?api-version=1', '/messages', 'beta=true').href, 'https://h/v1/messages?api-version=1&beta=true');
  });
});

describe('checkUpstreamBases', () => {
  const refuse = (key: string, message: string) => new ConfigError(message, key);

  it('accepts http(s) URLs and refuses anything else, naming the key and hiding credentials', () => {
    checkUpstreamBases({ proxyBaseUrl: 'http://b.test/v1', proxyRules: { default: 'https://d.test/v1' } }, refuse);
    for (const [config, key] of [
      [{ proxyBaseUrl: 'alice:hunter2@b.test/v1', proxyRules: {} }, 'proxy_base_url'],
      [{ proxyBaseUrl: undefined, proxyRules: { m: 'ftp://bob:hunter2@d.test/v1' } }, 'proxy_rules.m'],
      [{ proxyBaseUrl: undefined, proxyRules: { m: 'http://bob:hunter2@:99999/v1' } }, 'proxy_rules.m'],
    ] as const) {
      assert.throws(
        () => checkUpstreamBases(config, refuse),
        (err: ConfigError) => err.key === key && err.message.startsWith(`${key} must be an http(s) URL`) && !err.message.includes('hunter2'),
      );
    }
  });
});

describe('redactedUpstreams', () => {
  it('leaves no credential of proxy_base_url or proxy_rules in their logged form, and changes nothing in the config', () => {
    const config = {
      proxyBaseUrl: 'https://alice:hunter2@b.test/v1',
      proxyRules: { default: 'https://bob:hunter2@d.test/v1', m: 'https://m.test/v1?api_key=hunter2' },
      proxyRuleApis: { m: ['messages' as const] },
    };
    const copy = structuredClone(config);
    const logged = redactedUpstreams(config);
    assert.ok(!JSON.stringify(logged).includes('hunter2'), JSON.stringify(logged));
    assert.deepEqual(logged.proxyRules, { default: 'https://***:***@d.test/v1', m: 'https://m.test/v1?api_key=***' });
    assert.deepEqual(logged.passThrough, { m: ['messages'] });
    assert.deepEqual(config, copy);
    assert.equal(redactedUpstreams({ proxyBaseUrl: undefined, proxyRules: {}, proxyRuleApis: {} }).proxyBaseUrl, undefined);
  });
});
