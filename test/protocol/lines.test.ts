import assert from 'node:assert/strict';
import { compactJson, encodeRequestLine, encodeResponseLine, SESSION_END_LINE } from '../../src/protocol/index.js';

describe('protocol: lines', () => {
  it('writes request and response lines exactly as the reference frames them', () => {
    assert.equal(
      encodeRequestLine('{"a":1}', 3, { timestampMs: 1700000000000 }).toString(),
      'LLM_REQUEST_START{"a":1}LLM_REQUEST_END{"timestamp": 1700000000000, "index": 3}\n',
    );
    assert.equal(
      encodeResponseLine('{"b":2}', 3, 5).toString(),
      'LLM_RESPONSE_START{"b":2}LLM_RESPONSE_END{"timestamp": 5, "index": 3}\n',
    );
    assert.equal(SESSION_END_LINE.toString(), 'SESSION_END\n');
  });

  it('a line with a marker-laden payload is read whole by the reference reader, which splits on markers', () => {
    const payload = compactJson(JSON.stringify({ messages: [{ content: 'LLM_REQUEST_END SESSION_END LLM_RESPONSE_START' }] }));
    const line = encodeRequestLine(payload, 1).toString().trimEnd();
    // The reference: line.split(REQUEST_START)[1].split(REQUEST_END)[0], and `"SESSION_END" in line`.
    const body = line.split('LLM_REQUEST_START')[1]!.split('LLM_REQUEST_END')[0]!;
    const meta = JSON.parse(line.split('LLM_REQUEST_END')[1]!);
    assert.equal(JSON.parse(body).messages[0].content, 'LLM_REQUEST_END SESSION_END LLM_RESPONSE_START');
    assert.equal(meta.index, 1);
    assert.ok(!line.includes('SESSION_END'));
  });
});
