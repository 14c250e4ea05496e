import assert from 'node:assert/strict';
import { InvalidArgumentError, InvalidJsonError } from '../../src/errors.js';
import { BYTES_PER_TOKEN, countTokensBody, IMAGE_TOKENS } from '../../src/wire/token-estimate.js';

const count = (request: object): number => JSON.parse(countTokensBody(JSON.stringify(request))).input_tokens;

describe('wire: count_tokens estimate', () => {
  it('counts one token per four UTF-8 bytes of what the model reads, rounded up', () => {
    assert.equal(count({ model: 'm', messages: [{ role: 'user', content: 'abcd' }] }), 1);
    assert.equal(count({ model: 'm', messages: [{ role: 'user', content: 'abcde' }] }), 2);
    assert.equal(count({ model: 'm', messages: [{ role: 'user', content: 'é'.repeat(4) }] }), 8 / BYTES_PER_TOKEN);
    assert.equal(count({ model: 'm', system: [{ type: 'text', text: 'x'.repeat(40), cache_control: { type: 'ephemeral' } }], messages: [] }), 10);
  });

  it('counts tool definitions and tool_use inputs as their JSON, an image or document as IMAGE_TOKENS', () => {
    const tools = [{ name: 'Bash', input_schema: { type: 'object' } }];
    assert.equal(count({ model: 'm', tools, messages: [] }), Math.ceil(JSON.stringify(tools).length / 4));
    const withImage = count({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(10_000) } }] }] });
    assert.equal(withImage, IMAGE_TOKENS);
    assert.equal(count({ model: 'm', messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { c: 'ls' } }] }] }), Math.ceil(('Bash'.length + '{"c":"ls"}'.length) / 4));
  });

  it('refuses a body that is not a Messages request', () => {
    assert.throws(() => countTokensBody('{'), InvalidJsonError);
    assert.throws(() => countTokensBody('{"model":"m"}'), InvalidArgumentError);
  });
});
