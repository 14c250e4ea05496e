import assert from 'node:assert/strict';
import { redactUrl } from '../../src/config/redact-url.js';

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

  it('returns a URL with nothing to hide unchanged, an @ past the host included', () => {
    for (const url of ['https://api.openai.com/v1', 'http://127.0.0.1:8000', 'not a url', 'https://h/v1?q=1', 'https://h/v1?to=a@b', 'https://h/v1#a@b']) {
      assert.equal(redactUrl(url), url);
    }
  });

  it('hides the userinfo of a value mistyped without a scheme or with one slash (a config typo must not print a key)', () => {
    assert.equal(redactUrl('user:pw@host/v1?token=t'), 'user:***@host/v1?token=***');
    assert.equal(redactUrl('sk-abc@host/v1'), '***@host/v1');
    assert.equal(redactUrl('http:/alice:hunter2@host/v1'), 'http:/***:***@host/v1');
    assert.equal(redactUrl('http:// alice:hunter2@host'), 'http://***:***@host');
  });
});
