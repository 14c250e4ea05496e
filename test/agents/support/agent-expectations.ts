/**
 * What the real agents need from a streamed answer, as measured against them (docs/agents.md,
 * "Which streams they accept"). Each check reads the events the way the agent does and returns
 * what the agent would take from them, or throws an AssertionError naming the rule broken.
 */
import assert from 'node:assert/strict';
import type { ParsedEvent } from './sse-reader.js';

type Json = Record<string, any>;

export interface MessagesOutcome {
  content: Json[];
  stopReason: string | undefined;
}

/**
 * Claude Code 2.1.328: `message_start` must come before any block (without it, or with an `error`
 * event, it drops the stream and re-sends the call non-streamed); every block needs
 * `content_block_start` and `content_block_stop` (a tool_use never stopped is "could not be
 * parsed"); `ping`, `message_delta` and `message_stop` are optional to it, but the SDKs want them.
 */
export function claudeCodeTakes(events: ParsedEvent[]): MessagesOutcome {
  const names = events.map((e) => e.event);
  const errorEvent = events.find((e) => e.event === 'error');
  assert.equal(errorEvent, undefined, `an error event in the stream makes Claude Code re-send the call non-streamed: ${JSON.stringify(errorEvent?.data)}`);
  const firstReal = names.findIndex((name) => name !== 'ping');
  assert.equal(names[firstReal], 'message_start', `the first event other than ping must be message_start; the events: ${names.join(', ')}`);
  const content: Json[] = [];
  const open = new Map<number, { block: Json; json: string }>();
  let stopReason: string | undefined;
  for (const { event, data } of events.slice(firstReal + 1)) {
    const d = data as Json;
    if (event === 'content_block_start') {
      assert.ok(!open.has(d.index), `content block ${d.index} started twice`);
      open.set(d.index, { block: { ...d.content_block }, json: '' });
    } else if (event === 'content_block_delta') {
      const target = open.get(d.index);
      assert.ok(target, `a delta for content block ${d.index}, which is not open (content_block_start missing?)`);
      const delta = d.delta as Json;
      if (delta.type === 'text_delta') target.block.text = (target.block.text ?? '') + delta.text;
      else if (delta.type === 'thinking_delta') target.block.thinking = (target.block.thinking ?? '') + delta.thinking;
      else if (delta.type === 'signature_delta') target.block.signature = delta.signature;
      else if (delta.type === 'input_json_delta') target.json += delta.partial_json;
      else assert.fail(`unknown delta type ${JSON.stringify(delta.type)}`);
    } else if (event === 'content_block_stop') {
      const target = open.get(d.index);
      assert.ok(target, `content_block_stop for block ${d.index}, which is not open`);
      if (target.block.type === 'tool_use') {
        const input: unknown = target.json === '' ? target.block.input : JSON.parse(target.json);
        assert.ok(input !== null && typeof input === 'object' && !Array.isArray(input), `tool_use ${target.block.name}: its input must be a JSON object, got ${target.json}`);
        target.block.input = input;
      }
      content[d.index] = target.block;
      open.delete(d.index);
    } else if (event === 'message_delta') {
      stopReason = (d.delta as Json)?.stop_reason ?? stopReason;
    }
  }
  assert.equal(open.size, 0, `content block(s) ${[...open.keys()].join(', ')} never stopped: Claude Code cannot parse a tool call that is not stopped`);
  return { content: content.filter(Boolean), stopReason };
}

export interface ResponsesOutcome {
  /** The items of `response.output_item.done`, in order: all Codex takes from a stream. */
  items: Json[];
  responseId: string;
}

/**
 * Codex 0.169.0: it acts only on `response.output_item.done` items (items that appear only in
 * `response.completed` are ignored), needs `response.completed` with `response.id` (without it:
 * "stream closed before response.completed" and a retry), and retries on `response.failed`
 * (except context_length_exceeded, insufficient_quota, usage_not_included). An `error` event is
 * ignored. Other events are optional to it.
 */
export function codexTakes(events: ParsedEvent[]): ResponsesOutcome {
  const failed = events.find((e) => e.event === 'response.failed');
  assert.equal(failed, undefined, `response.failed makes Codex retry the call: ${JSON.stringify(failed?.data)}`);
  const items = events.filter((e) => e.event === 'response.output_item.done').map((e) => (e.data as Json).item as Json);
  const completed = events.find((e) => e.event === 'response.completed');
  assert.ok(completed, `no response.completed: Codex reports "stream closed before response.completed" and retries; the events: ${events.map((e) => e.event).join(', ')}`);
  const responseId = ((completed.data as Json).response as Json)?.id;
  assert.equal(typeof responseId, 'string', 'response.completed must carry response.id');
  for (const item of items) {
    if (item.type === 'function_call') {
      for (const key of ['call_id', 'name', 'arguments']) assert.equal(typeof item[key], 'string', `a function_call item needs a string ${key}: ${JSON.stringify(item)}`);
    }
  }
  return { items, responseId };
}
