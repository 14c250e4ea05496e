/**
 * Chat Completions chunks → Anthropic Messages events, as the API streams them and
 * @anthropic-ai/sdk's MessageStream accumulates them: `message_start`, then for each content
 * block `content_block_start`, its deltas (`thinking_delta` and `signature_delta`, `text_delta`,
 * `input_json_delta`) and `content_block_stop`, one block open at a time, then `message_delta`
 * (stop_reason, usage) and `message_stop`. `ping` keeps the connection busy.
 */
import { BadResponseError, UpstreamError } from '../errors.js';
import { failWith, type AgentEventStream } from './agent-api.js';
import { newId, readUsage, type ChatUsage } from './chat-answer.js';
import { readChunk, upstreamMessage } from './chat-delta.js';
import { anthropicErrorBody } from './error-bodies.js';
import { ExactJson } from './exact-json.js';
import { isJsonObject, parseJsonObject, type JsonObject as Json } from './json-object.js';
import { messagesUsage, stopReason } from './messages-answer.js';
import type { MessagesState } from './messages-request.js';
import { sseEvent } from './sse.js';
import { agentToolName } from './tool-names.js';

const event = (name: string, data: Json): string => sseEvent(name, JSON.stringify(data));

/** Messages' own keep-alive, which Anthropic sends while a model works. */
export const MESSAGES_PING = sseEvent('ping', '{"type":"ping"}');

interface StreamedToolCall {
  id: string;
  name: string;
  /** The content block's index, -1 until the call's name is known. */
  block: number;
  /** Every argument fragment so far (checked at the end: tool_use.input must be an object). */
  args: string;
  /** Fragments that came before the name, sent when the block opens. */
  unsent: string;
}

/** Translates one call's chat chunks into Messages events. */
export class MessagesEventStream implements AgentEventStream {
  ended = false;
  private started = false;
  /** Index of the last block opened. */
  private block = -1;
  private open: 'text' | 'thinking' | 'tool' | undefined;
  private readonly tools = new Map<number, StreamedToolCall>();
  private finishReason: string | null = null;
  private matchedStop: unknown;
  private usage: ChatUsage | undefined;
  private refused = false;

  constructor(
    private readonly state: MessagesState,
    private readonly index = 0,
  ) {}

  /**
   * Messages opens with its first chunk, not with the headers: then message_start can carry the
   * token counts when they are known (local mode pushes the usage first), and pings keep
   * Claude Code waiting meanwhile (it waits for message_start behind pings, measured).
   */
  start(): string {
    return '';
  }

  private openMessage(): string {
    if (this.started || this.ended) return '';
    this.started = true;
    // In proxy mode the chat stream tells the token counts only at its end; message_delta carries them.
    const usage = this.usage === undefined ? { input_tokens: 0, output_tokens: 0 } : { ...messagesUsage(this.usage), output_tokens: 0 };
    const message = {
      id: this.state.messageId,
      type: 'message',
      role: 'assistant',
      model: this.state.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    };
    return event('message_start', { type: 'message_start', message });
  }

  push(chunkText: string): string {
    if (this.ended) return '';
    const delta = readChunk(chunkText);
    if (delta === undefined) return '';
    if (delta.error !== undefined) return failWith(this, new UpstreamError(upstreamMessage(delta.error)));
    if (delta.usage !== undefined) this.usage = delta.usage;
    let out = this.openMessage();
    if (delta.reasoning !== '') out += this.thinking(delta.reasoning);
    for (const block of delta.opaque) out += this.opaqueThinking(block);
    if (delta.text !== '') out += this.text(delta.text);
    if (delta.refusal !== '') {
      this.refused = true;
      out += this.text(delta.refusal);
    }
    for (const call of delta.toolCalls) out += this.toolCall(call);
    if (delta.finishReason !== undefined) this.finishReason = delta.finishReason;
    if (delta.matchedStop !== undefined) this.matchedStop = delta.matchedStop;
    return out;
  }

  end(): string {
    if (this.ended) return '';
    let out = this.openMessage();
    const broken = this.brokenToolCall();
    if (broken !== undefined) return out + failWith(this, broken);
    out += this.closeBlock();
    const stop = stopReason(this.finishReason, this.matchedStop, this.state, this.tools.size > 0, this.refused);
    const usage = messagesUsage(this.usage ?? readUsage(undefined));
    out += event('message_delta', { type: 'message_delta', delta: { stop_reason: stop.reason, stop_sequence: stop.sequence, stop_details: null }, usage });
    out += event('message_stop', { type: 'message_stop' });
    this.ended = true;
    return out;
  }

  heartbeat(): string {
    return this.ended ? '' : MESSAGES_PING;
  }

  fail(status: number, code: string, message: string): string {
    if (this.ended) return '';
    this.ended = true;
    return sseEvent('error', anthropicErrorBody(status, code, message));
  }

  private openBlock(kind: 'text' | 'thinking' | 'tool', contentBlock: Json): string {
    const out = this.closeBlock();
    this.block++;
    this.open = kind;
    return out + event('content_block_start', { type: 'content_block_start', index: this.block, content_block: contentBlock });
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    this.open = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index: this.block });
  }

  private delta(block: number, delta: Json): string {
    return event('content_block_delta', { type: 'content_block_delta', index: block, delta });
  }

  private thinking(text: string): string {
    const out = this.open === 'thinking' ? '' : this.openBlock('thinking', { type: 'thinking', thinking: '', signature: '' });
    return out + this.delta(this.block, { type: 'thinking_delta', thinking: text });
  }

  /** A signature goes onto the thinking block (opened for it if need be); redacted thinking is a block of its own. */
  private opaqueThinking(block: Json): string {
    if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
      return this.openBlock('thinking', { type: 'redacted_thinking', data: block.data }) + this.closeBlock();
    }
    if (typeof block.signature !== 'string' || block.signature === '') return '';
    const out = this.open === 'thinking' ? '' : this.openBlock('thinking', { type: 'thinking', thinking: '', signature: '' });
    return out + this.delta(this.block, { type: 'signature_delta', signature: block.signature });
  }

  private text(text: string): string {
    const out = this.open === 'text' ? '' : this.openBlock('text', { type: 'text', text: '' });
    return out + this.delta(this.block, { type: 'text_delta', text });
  }

  /**
   * A call's first fragment opens its tool_use block; later fragments are input_json_delta on
   * that block (by its index, even in the rare stream that interleaves two calls).
   */
  private toolCall(call: Json): string {
    const at = typeof call.index === 'number' ? call.index : 0;
    const fn = isJsonObject(call.function) ? call.function : {};
    let tool = this.tools.get(at);
    if (tool === undefined) {
      tool = { id: typeof call.id === 'string' && call.id !== '' ? call.id : newId('toolu_'), name: '', block: -1, args: '', unsent: '' };
      this.tools.set(at, tool);
    }
    const fragment = typeof fn.arguments === 'string' ? fn.arguments : '';
    tool.args += fragment;
    let out = '';
    if (tool.block === -1) {
      if (typeof fn.name === 'string' && fn.name !== '') tool.name = fn.name;
      if (tool.name === '') {
        tool.unsent += fragment;
        return '';
      }
      const name = agentToolName(this.state.tools, tool.name).name;
      out += this.openBlock('tool', { type: 'tool_use', id: tool.id, name, input: {} });
      tool.block = this.block;
      const pending = tool.unsent + fragment;
      tool.unsent = '';
      if (pending !== '') out += this.delta(tool.block, { type: 'input_json_delta', partial_json: pending });
      return out;
    }
    if (fragment !== '') out += this.delta(tool.block, { type: 'input_json_delta', partial_json: fragment });
    return out;
  }

  /** Returns the error for the first tool call that cannot be a tool_use (no name, or input that is not an object). */
  private brokenToolCall(): BadResponseError | undefined {
    for (const tool of this.tools.values()) {
      if (tool.name === '') return new BadResponseError(this.index, "a tool call in the runtime's answer has no function name; name the tool it calls");
      if (tool.args.trim() === '') continue;
      if (parseJsonObject(tool.args) === undefined) {
        return new BadResponseError(
          this.index,
          `tool call ${tool.id} (${tool.name}): its arguments are not a JSON object, and a Messages tool_use.input must be one; write the arguments as a JSON object text`,
        );
      }
    }
    return undefined;
  }
}

/**
 * Native mode: the events of a Messages `message` object, as the API would have streamed it.
 * @throws BadResponseError when the text is not a Messages message object.
 */
export function messageToEvents(messageText: string, index = 0): string {
  const json = new ExactJson();
  const message = json.readAnswer(messageText, index, 'a Messages message object', 'content');
  const content = message.content as unknown[];
  const write = (name: string, data: Json): string => sseEvent(name, json.write(data));
  const { content: _content, stop_reason, stop_sequence, usage, ...head } = message;
  let out = write('message_start', { type: 'message_start', message: { ...head, type: 'message', role: 'assistant', content: [], stop_reason: null, stop_sequence: null, usage: usage ?? {} } });
  content.forEach((block, i) => {
    if (!isJsonObject(block)) return;
    const delta = (d: Json): string => write('content_block_delta', { type: 'content_block_delta', index: i, delta: d });
    if (block.type === 'text' && typeof block.text === 'string') {
      out += write('content_block_start', { type: 'content_block_start', index: i, content_block: { ...block, text: '' } });
      if (block.text !== '') out += delta({ type: 'text_delta', text: block.text });
    } else if (block.type === 'thinking' && typeof block.thinking === 'string') {
      out += write('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'thinking', thinking: '', signature: '' } });
      if (block.thinking !== '') out += delta({ type: 'thinking_delta', thinking: block.thinking });
      if (typeof block.signature === 'string' && block.signature !== '') out += delta({ type: 'signature_delta', signature: block.signature });
    } else if (isJsonObject(block.input)) {
      out += write('content_block_start', { type: 'content_block_start', index: i, content_block: { ...block, input: {} } });
      if (Object.keys(block.input).length > 0) out += delta({ type: 'input_json_delta', partial_json: json.write(block.input) });
    } else {
      out += write('content_block_start', { type: 'content_block_start', index: i, content_block: block });
    }
    out += write('content_block_stop', { type: 'content_block_stop', index: i });
  });
  out += write('message_delta', { type: 'message_delta', delta: { stop_reason: stop_reason ?? 'end_turn', stop_sequence: stop_sequence ?? null }, usage: usage ?? {} });
  return out + write('message_stop', { type: 'message_stop' });
}
