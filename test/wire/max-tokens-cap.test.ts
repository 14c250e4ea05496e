import assert from 'node:assert/strict';
import { createAgentApis } from '../../src/wire/agent-apis.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { completionText } from '../helpers/chat-completion.js';

const MESSAGES = JSON.stringify({ model: 'c', max_tokens: 128000, messages: [{ role: 'user', content: 'hi' }] });
const maxTokens = (chat: string): unknown => (JSON.parse(chat) as { max_tokens?: unknown }).max_tokens;

describe('max_tokens_cap', () => {
  let svc: TestService | undefined;
  afterEach(async () => {
    await svc?.close();
    svc = undefined;
  });

  it("caps the translated request's max_tokens, keeps a smaller one, adds none, and leaves Chat Completions as sent", () => {
    const capped = createAgentApis({ maxTokensCap: 8192 });
    assert.equal(maxTokens(capped.messages.toChat(MESSAGES).chat), 8192);
    assert.equal(maxTokens(capped.responses.toChat('{"model":"g","input":"hi","max_output_tokens":100}').chat), 100);
    assert.equal(maxTokens(capped.responses.toChat('{"model":"g","input":"hi","max_output_tokens":128000}').chat), 8192);
    assert.equal(maxTokens(capped.responses.toChat('{"model":"g","input":"hi"}').chat), undefined);
    assert.equal(maxTokens(capped.chat.toChat('{"model":"m","max_tokens":128000,"messages":[]}').chat), 128000);
    const responses = capped.responses.toChat('{"model":"g","input":"hi","max_output_tokens":128000}');
    assert.match((responses.state as { echo: string }).echo, /"max_output_tokens":128000/, 'the answer echoes what the agent asked for');
    assert.equal(maxTokens(createAgentApis().messages.toChat(MESSAGES).chat), 128000, 'no cap unless configured');
  });

  it('holds in local mode: the runtime reads the capped request', async () => {
    svc = await startTestService({ maxTokensCap: 4096 });
    const call = fetch(`${svc.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: MESSAGES });
    assert.equal(maxTokens(await svc.request(1)), 4096);
    svc.respond(1, completionText({ content: 'ok' }));
    assert.equal(((await (await call).json()) as { content: { text: string }[] }).content[0]!.text, 'ok');
  });
});
