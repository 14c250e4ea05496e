import assert from 'node:assert/strict';
import { RawJson } from '../../src/proxy/recorder.js';
import { agentStreamRecord, chatStreamRecord } from '../../src/proxy/stream-records.js';
import { messageToEvents } from '../../src/wire/messages-stream.js';
import { responseToEvents } from '../../src/wire/responses-stream.js';
import { sseEvent } from '../../src/wire/sse.js';

/** The record's answer as JSON text (a RawJson's bytes, or the value serialised). */
function text(value: unknown): string {
  return value instanceof RawJson ? value.bytes.toString() : JSON.stringify(value);
}

const MESSAGE = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-x',
  content: [
    { type: 'thinking', thinking: 'weather needs a tool', signature: 'sig-1' },
    { type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris', id: 12345678901234567890 } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 11, output_tokens: 7 },
};
// The 19-digit integer as the agent got it, which JSON.stringify of a parsed value would change.
const MESSAGE_TEXT = JSON.stringify(MESSAGE).replace('12345678901234567000', '12345678901234567890');

const RESPONSE = {
  id: 'resp_1',
  object: 'response',
  created_at: 1,
  status: 'completed',
  model: 'gpt-x',
  output: [
    { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'hello', annotations: [] }] },
    { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'f', arguments: '{"x":1}' },
  ],
  usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
};

describe('stream records: Messages', () => {
  it("folds the events into the message the agent got, a tool's input with its numbers as sent, fed in any pieces", () => {
    const events = Buffer.from(messageToEvents(MESSAGE_TEXT));
    const record = agentStreamRecord('messages', 1 << 20);
    for (let i = 0; i < events.length; i += 7) record.push(events.subarray(i, i + 7));
    record.end();
    const folded = text(record.result());
    assert.ok(folded.includes('"id":12345678901234567890'), folded);
    assert.deepEqual(JSON.parse(folded), JSON.parse(MESSAGE_TEXT));
    assert.deepEqual(record.usage, { input_tokens: 11, output_tokens: 7 });
    assert.equal(record.truncated, undefined);
    assert.equal(record.streamError, undefined);
  });

  it('notes an error event, keeps what came before it, and counts events that are not JSON', () => {
    const record = agentStreamRecord('messages', 1 << 20);
    record.push(messageToEvents(MESSAGE_TEXT).split('event: content_block_start')[0]!);
    record.push('data: not json\n\n');
    record.push(sseEvent('error', '{"type":"error","error":{"type":"api_error","message":"RMS_UPSTREAM: it broke"}}'));
    record.end();
    assert.equal(record.streamError, 'RMS_UPSTREAM: it broke');
    assert.equal(record.skipped, 1);
    assert.deepEqual((JSON.parse(text(record.result())) as { id: string; content: unknown[] }).content, []);
  });

  it('keeps at most record_max_bytes of events, says where it cut, and still reads the stop reason and usage after the cut', () => {
    const record = agentStreamRecord('messages', 4096);
    record.push(sseEvent('message_start', JSON.stringify({ type: 'message_start', message: { id: 'msg_2', content: [], usage: { input_tokens: 5 } } })));
    record.push(sseEvent('content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'));
    const delta = sseEvent('content_block_delta', JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x'.repeat(100) } }));
    for (let i = 0; i < 1000; i++) record.push(delta);
    record.push(sseEvent('content_block_stop', '{"type":"content_block_stop","index":0}'));
    record.push(sseEvent('message_delta', '{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":900}}'));
    record.end();
    const message = JSON.parse(text(record.result())) as { content: { text: string }[]; stop_reason: string; usage: object };
    assert.ok(message.content[0]!.text.length > 0 && message.content[0]!.text.length < 4096, `${message.content[0]!.text.length}`);
    assert.equal(message.stop_reason, 'max_tokens');
    assert.deepEqual(message.usage, { input_tokens: 5, output_tokens: 900 });
    assert.equal(record.truncated?.limit_bytes, 4096);
    assert.ok(record.truncated!.at_bytes! > 0 && record.truncated!.at_bytes! <= 4096);
  });
});

describe('stream records: Responses', () => {
  it('takes the response of the closing event, which carries every item', () => {
    const record = agentStreamRecord('responses', 1 << 20);
    record.push(responseToEvents(JSON.stringify(RESPONSE)));
    record.end();
    assert.deepEqual(record.result(), RESPONSE);
    assert.deepEqual(record.usage, RESPONSE.usage);
  });

  it('keeps the finished items of a stream that broke before its closing event, and notes response.failed', () => {
    const events = responseToEvents(JSON.stringify(RESPONSE));
    const broken = agentStreamRecord('responses', 1 << 20);
    broken.push(events.slice(0, events.indexOf('event: response.completed')));
    broken.end();
    const result = broken.result() as { id: string; status: string; output: unknown[] };
    assert.equal(result.id, 'resp_1');
    assert.equal(result.status, 'in_progress');
    assert.deepEqual(result.output, RESPONSE.output);
    const failed = agentStreamRecord('responses', 1 << 20);
    failed.push(responseToEvents(JSON.stringify({ ...RESPONSE, status: 'failed', output: [], error: { code: 'server_error', message: 'the upstream broke' } })));
    failed.end();
    assert.equal(failed.streamError, 'the upstream broke');
  });

  it('reads the closing event past the bound (it replaces the items left out), but no other', () => {
    const big = { ...RESPONSE, output: Array.from({ length: 40 }, (_, i) => ({ id: `msg_${i}`, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'y'.repeat(50) }] })) };
    const record = agentStreamRecord('responses', 8192);
    record.push(responseToEvents(JSON.stringify(big)));
    record.end();
    assert.deepEqual(record.result(), big);
    assert.equal(record.truncated?.limit_bytes, 8192);
  });
});

describe('stream records: Chat Completions', () => {
  it('folds chunks into a chat.completion, from strings or bytes', () => {
    const record = chatStreamRecord(1 << 20);
    record.push('data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"he"}}]}\n\n');
    record.push(Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"llo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n'));
    record.end();
    const result = record.result() as { choices: { message: { content: string }; finish_reason: string }[] };
    assert.equal(result.choices[0]!.message.content, 'hello');
    assert.equal(result.choices[0]!.finish_reason, 'stop');
    assert.deepEqual(record.usage, { prompt_tokens: 1 });
  });
});
