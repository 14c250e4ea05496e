/**
 * The replay tests judge the service's streams with claudeCodeTakes / codexTakes. These cases hold
 * those checks to what the real agents did with the same frames in the capture scenarios
 * (capture/scenarios.ts, the name in each test): accepted there, accepted here; refused there,
 * refused here.
 */
import assert from 'node:assert/strict';
import { claudeCodeTakes, codexTakes } from './support/agent-expectations.js';
import { frameText, heartbeat, messagesFrames, responsesFrames, withoutEvents, type Frame } from './support/sse-frames.js';
import { eventsOf, parseSse } from './support/sse-reader.js';

const events = (frames: Frame[]) => eventsOf(parseSse(frames.map(frameText).join('')));
const toolTurn = messagesFrames('m', [
  { type: 'thinking', thinking: 'plan', signature: 'sig' },
  { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'echo hi > f' } },
]);
const callTurn = responsesFrames('m', [
  { type: 'reasoning', summary: 'plan', encryptedContent: 'enc' },
  { type: 'function_call', callId: 'call_1', name: 'exec_command', arguments: '{"cmd":"echo hi > f"}' },
]);

describe('what the real agents need from a stream (checks behind the replay tests)', () => {
  it('Claude Code takes the full sequence, and the same without ping, message_delta or message_stop (cc-tool-turns, cc-no-ping, cc-no-message-delta, cc-no-message-stop)', () => {
    const outcome = claudeCodeTakes(events(toolTurn));
    assert.equal(outcome.stopReason, 'tool_use');
    assert.deepEqual(outcome.content.map((block) => block.type), ['thinking', 'tool_use']);
    assert.deepEqual(outcome.content[1]!.input, { command: 'echo hi > f' });
    assert.equal(outcome.content[0]!.signature, 'sig');
    for (const dropped of ['ping', 'message_delta', 'message_stop']) claudeCodeTakes(events(withoutEvents(toolTurn, dropped)));
  });

  it('Claude Code takes pings and SSE comments before and after message_start (cc-ping-before-start, cc-comments-before-start, cc-comments-after-start)', () => {
    const ping: Frame = { event: 'ping', data: { type: 'ping' } };
    claudeCodeTakes(events([...heartbeat(ping, 0, 3), ...toolTurn]));
    claudeCodeTakes(events([...heartbeat({ comment: 'keep-alive' }, 0, 3), toolTurn[0]!, ...heartbeat({ comment: 'keep-alive' }, 0, 3), ...toolTurn.slice(1)]));
  });

  it('Claude Code refuses a stream without message_start or content_block_start, with an error event, or with an unstopped tool_use (cc-no-message-start, cc-no-content-block-start, cc-error-event-*, cc-no-content-block-stop)', () => {
    assert.throws(() => claudeCodeTakes(events(withoutEvents(toolTurn, 'message_start'))), /message_start/);
    assert.throws(() => claudeCodeTakes(events(withoutEvents(toolTurn, 'content_block_start'))), /not open/);
    assert.throws(() => claudeCodeTakes(events([toolTurn[0]!, { event: 'error', data: { type: 'error', error: { type: 'api_error', message: 'x' } } }])), /error event/);
    assert.throws(() => claudeCodeTakes(events(withoutEvents(toolTurn, 'content_block_stop'))), /never stopped/);
  });

  it('Codex takes the full sequence, and the same without created, in_progress, item added, content parts or deltas (cx-tool-turns, cx-no-*)', () => {
    const outcome = codexTakes(events(callTurn));
    assert.deepEqual(outcome.items.map((item) => item.type), ['reasoning', 'function_call']);
    assert.equal(outcome.items[0]!.encrypted_content, 'enc');
    for (const dropped of ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta']) {
      assert.equal(codexTakes(events(withoutEvents(callTurn, dropped))).items.length, 2);
    }
  });

  it('Codex takes nothing from items that come only in response.completed, and refuses a stream without response.completed or with response.failed (cx-no-item-done, cx-no-completed, cx-failed-event-always)', () => {
    assert.equal(codexTakes(events(withoutEvents(callTurn, 'response.output_item.done'))).items.length, 0);
    assert.throws(() => codexTakes(events(withoutEvents(callTurn, 'response.completed'))), /response\.completed/);
    assert.throws(() => codexTakes(events([callTurn[0]!, { event: 'response.failed', data: { type: 'response.failed', response: { id: 'r', status: 'failed', error: { code: 'server_error', message: 'x' } } } }])), /response\.failed/);
  });
});
