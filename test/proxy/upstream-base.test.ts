import assert from 'node:assert/strict';
import { chatCompletionsUrl, redactedUpstreams, redactUrl, upstreamBase } from '../../src/proxy/upstream-base.js';

describe('upstreamBase', () => {
  const rules = { 'gpt-4': 'https://a.test/v1', default: 'https://d.test/v1' };

  it('prefers proxy_base_url, then proxy_rules[model], then proxy_rules.default', () => {
    assert.equal(upstreamBase({ proxyBaseUrl: 'http://b.test/v1', proxyRules: rules }, 'gpt-4'), 'http://b.test/v1');
    assert.equal(upstreamBase({ proxyBaseUrl: undefined, proxyRules: rules }, 'gpt-4'), 'https://a.test/v1');
    assert.equal(upstreamBase({ proxyBaseUrl: undefined, proxyRules: rules }, 'other'), 'https://d.test/v1');
    assert.equal(upstreamBase({ proxyBaseUrl: undefined, proxyRules: rules }, undefined), 'https://d.test/v1');
  });

  it('finds nothing without a matching rule or a default, even for inherited names', () => {
    assert.equal(upstreamBase({ proxyBaseUrl: undefined, proxyRules: { 'gpt-4': 'https://a.test/v1' } }, 'toString'), undefined);
  });

  it('appends /chat/completions with or without a trailing slash', () => {
    assert.equal(chatCompletionsUrl('http://h:1/v1').href, 'http://h:1/v1/chat/completions');
    assert.equal(chatCompletionsUrl('http://h:1/v1//').href, 'http://h:1/v1/chat/completions');
  });
});

describe('redactUrl', () => {
  it('hides the user and password of a URL, keeping the rest byte for byte', () => {
    assert.equal(redactUrl('https://user:s3cret@api.test:8443/v1'), 'https://***:***@api.test:8443/v1');
    assert.equal(redactUrl('http://sk-abcdef@api.test/v1/'), 'http://***@api.test/v1/');
    assert.equal(redactUrl('https://u:p%40ss@h'), 'https://***:***@h');
  });

  it('hides the values of credential query parameters, any case and spelling, and no other', () => {
    assert.equal(
      redactUrl('https://h/v1?api-version=2024-06-01&api_key=sk-1&Key=2&access_token=3&X-Amz-Signature=4&sig=5&model=gpt'),
      'https://h/v1?api-version=2024-06-01&api_key=***&Key=***&access_token=***&X-Amz-Signature=***&sig=***&model=gpt',
    );
    assert.equal(redactUrl('https://h/v1?apikey=1&token=2#frag?key=x'), 'https://h/v1?apikey=***&token=***#frag?key=x');
    assert.equal(redactUrl('https://h/v1?api%5Fkey=1&flag&monkey=banana'), 'https://h/v1?api%5Fkey=***&flag&monkey=banana');
  });

  it('returns a URL with nothing to hide unchanged, and handles text that is not a URL', () => {
    for (const url of ['https://api.openai.com/v1', 'http://127.0.0.1:8000', 'not a url', 'https://h/v1?q=1']) assert.equal(redactUrl(url), url);
    assert.equal(redactUrl('user:pw@host/v1?token=t'), 'user:pw@host/v1?token=***');
  });

  it('leaves no credential of proxy_base_url or proxy_rules in their logged form, and changes nothing in the config', () => {
    const config = { proxyBaseUrl: 'https://alice:hunter2@b.test/v1', proxyRules: { default: 'https://bob:hunter2@d.test/v1', m: 'https://m.test/v1?api_key=hunter2' } };
    const copy = structuredClone(config);
    const logged = redactedUpstreams(config);
    assert.ok(!JSON.stringify(logged).includes('hunter2'), JSON.stringify(logged));
    assert.deepEqual(logged.proxyRules, { default: 'https://***:***@d.test/v1', m: 'https://m.test/v1?api_key=***' });
    assert.deepEqual(config, copy);
    assert.equal(redactedUpstreams({ proxyBaseUrl: undefined, proxyRules: {} }).proxyBaseUrl, undefined);
  });
});
