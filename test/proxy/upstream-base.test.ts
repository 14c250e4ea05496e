import assert from 'node:assert/strict';
import { chatCompletionsUrl, upstreamBase } from '../../src/proxy/upstream-base.js';

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
