/**
 * Hand-built answers in the two agent APIs, as lists of SSE frames that a scenario can edit
 * (drop an event type, insert comments or delays) before writing them. They follow the event
 * sequences the public APIs send; the capture scenarios learn which of them the real agents need.
 */
import type { ServerResponse } from 'node:http';

/** One SSE frame: an event (with its JSON data), a comment line, or a pause before the next frame. */
export type Frame =
  | { event: string; data: Record<string, unknown> }
  | { comment: string }
  | { pauseMs: number };

export type MessagesBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** An Anthropic Messages stream: message_start, ping, one start/delta/stop per block, message_delta, message_stop. */
export function messagesFrames(model: string, blocks: MessagesBlock[], id = `msg_${Date.now().toString(36)}`): Frame[] {
  const frames: Frame[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  blocks.forEach((block, index) => {
    const start = (content_block: Record<string, unknown>): void => {
      frames.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block } });
    };
    const delta = (d: Record<string, unknown>): void => {
      frames.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: d } });
    };
    if (block.type === 'text') {
      start({ type: 'text', text: '' });
      delta({ type: 'text_delta', text: block.text });
    } else if (block.type === 'thinking') {
      start({ type: 'thinking', thinking: '', signature: '' });
      delta({ type: 'thinking_delta', thinking: block.thinking });
      delta({ type: 'signature_delta', signature: block.signature });
    } else {
      start({ type: 'tool_use', id: block.id, name: block.name, input: {} });
      const json = JSON.stringify(block.input);
      const half = Math.floor(json.length / 2);
      delta({ type: 'input_json_delta', partial_json: json.slice(0, half) });
      delta({ type: 'input_json_delta', partial_json: json.slice(half) });
    }
    frames.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  const stopReason = blocks.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn';
  frames.push(
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 20 } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return frames;
}

/** The same answer as one non-streamed Messages object. */
export function messagesObject(model: string, blocks: MessagesBlock[], id = `msg_${Date.now().toString(36)}`): Record<string, unknown> {
  const stopReason = blocks.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn';
  return { id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 20 } };
}

export type ResponsesItem =
  | { type: 'message'; text: string }
  | { type: 'reasoning'; summary: string; encryptedContent: string }
  | { type: 'function_call'; callId: string; name: string; arguments: string };

/**
 * An OpenAI Responses stream: response.created, response.in_progress, per item output_item.added,
 * its content events and output_item.done, then response.completed with usage.
 */
export function responsesFrames(model: string, items: ResponsesItem[], id = `resp_${Date.now().toString(36)}`): Frame[] {
  let sequence = 0;
  const frames: Frame[] = [];
  const push = (type: string, rest: Record<string, unknown>): void => {
    frames.push({ event: type, data: { type, sequence_number: sequence++, ...rest } });
  };
  const created_at = Math.floor(Date.now() / 1000);
  const base = { id, object: 'response', created_at, status: 'in_progress', model, output: [] as unknown[], usage: null };
  push('response.created', { response: base });
  push('response.in_progress', { response: base });
  const output: Record<string, unknown>[] = [];
  items.forEach((item, output_index) => {
    const itemId = `${item.type === 'function_call' ? 'fc' : item.type === 'reasoning' ? 'rs' : 'msg'}_${id}_${output_index}`;
    if (item.type === 'message') {
      const part = { type: 'output_text', text: item.text, annotations: [] };
      const done = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      push('response.output_item.added', { output_index, item: { ...done, status: 'in_progress', content: [] } });
      push('response.content_part.added', { item_id: itemId, output_index, content_index: 0, part: { ...part, text: '' } });
      push('response.output_text.delta', { item_id: itemId, output_index, content_index: 0, delta: item.text });
      push('response.output_text.done', { item_id: itemId, output_index, content_index: 0, text: item.text });
      push('response.content_part.done', { item_id: itemId, output_index, content_index: 0, part });
      push('response.output_item.done', { output_index, item: done });
      output.push(done);
    } else if (item.type === 'reasoning') {
      const summary = [{ type: 'summary_text', text: item.summary }];
      const done = { id: itemId, type: 'reasoning', summary, encrypted_content: item.encryptedContent };
      push('response.output_item.added', { output_index, item: { ...done, summary: [] } });
      push('response.reasoning_summary_part.added', { item_id: itemId, output_index, summary_index: 0, part: { type: 'summary_text', text: '' } });
      push('response.reasoning_summary_text.delta', { item_id: itemId, output_index, summary_index: 0, delta: item.summary });
      push('response.reasoning_summary_text.done', { item_id: itemId, output_index, summary_index: 0, text: item.summary });
      push('response.reasoning_summary_part.done', { item_id: itemId, output_index, summary_index: 0, part: summary[0] });
      push('response.output_item.done', { output_index, item: done });
      output.push(done);
    } else {
      const done = { id: itemId, type: 'function_call', status: 'completed', call_id: item.callId, name: item.name, arguments: item.arguments };
      push('response.output_item.added', { output_index, item: { ...done, status: 'in_progress', arguments: '' } });
      push('response.function_call_arguments.delta', { item_id: itemId, output_index, delta: item.arguments });
      push('response.function_call_arguments.done', { item_id: itemId, output_index, arguments: item.arguments });
      push('response.output_item.done', { output_index, item: done });
      output.push(done);
    }
  });
  const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 32 };
  push('response.completed', { response: { ...base, status: 'completed', output, usage } });
  return frames;
}

/** Drops every event frame whose event name is in `types`. */
export function withoutEvents(frames: Frame[], ...types: string[]): Frame[] {
  return frames.filter((frame) => !('event' in frame) || !types.includes(frame.event));
}

/** The bytes of one frame on the wire (a pause writes nothing). */
export function frameText(frame: Frame): string {
  if ('event' in frame) return `event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`;
  if ('comment' in frame) return `: ${frame.comment}\n\n`;
  return '';
}

/**
 * Writes a 200 text/event-stream answer frame by frame, honouring pauses, and ends it unless
 * `keepOpen` is set. Resolves early when the client goes away.
 */
export async function writeFrames(res: ServerResponse, frames: Frame[], options: { headers?: Record<string, string>; keepOpen?: boolean } = {}): Promise<void> {
  if (!res.headersSent) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_recorder', 'x-request-id': 'req_recorder', ...options.headers });
    res.flushHeaders();
  }
  for (const frame of frames) {
    if (res.destroyed) return;
    if ('pauseMs' in frame) await new Promise((resolve) => setTimeout(resolve, frame.pauseMs));
    else res.write(frameText(frame));
  }
  if (!options.keepOpen) res.end();
}

/** `count` frames of `frame`, each after a pause of `everyMs`: a heartbeat of `count * everyMs` ms. */
export function heartbeat(frame: Frame, everyMs: number, count: number): Frame[] {
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) frames.push({ pauseMs: everyMs }, frame);
  return frames;
}

/** Writes a JSON answer with `status` and `headers`. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_recorder', 'x-request-id': 'req_recorder', ...headers });
  res.end(JSON.stringify(body));
}
