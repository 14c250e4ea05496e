/**
 * Chat Completions chunks → OpenAI Responses events, in the order the API streams them and the
 * openai client's ResponseStream (and Codex) read them: `response.created`,
 * `response.in_progress`, then per output item `response.output_item.added`, its parts and
 * deltas (`response.reasoning_summary_*` or `response.reasoning_text.*`, `response.content_part.*`
 * with `response.output_text.*`, `response.function_call_arguments.*`,
 * `response.custom_tool_call_input.*`) and `response.output_item.done`, then
 * `response.completed` (or `response.incomplete`) carrying the whole response. Every event has a
 * `sequence_number`. Codex takes each item from its `output_item.done`, and finishes on
 * `response.completed` only.
 */
import { BadResponseError, UpstreamError } from '../errors.js';
import { failWith, type AgentEventStream } from './agent-api.js';
import { newId, readUsage, type ChatToolCall, type ChatUsage } from './chat-answer.js';
import { readChunk, upstreamMessage } from './chat-delta.js';
import { openAiError } from './error-bodies.js';
import { ExactJson } from './exact-json.js';
import { isJsonObject, type JsonObject as Json } from './json-object.js';
import { callItem, finishStatus, messageItem, outputText, reasoningItem, remember, responsesUsage, responseText } from './responses-answer.js';
import type { ResponsesState } from './responses-request.js';
import type { ResponsesStore } from './responses-store.js';
import { sseEvent, SSE_KEEP_ALIVE } from './sse.js';
import { agentToolName } from './tool-names.js';

interface OpenReasoning {
  kind: 'reasoning';
  id: string;
  output: number;
  text: string;
  encrypted?: string;
}
interface OpenMessage {
  kind: 'message';
  id: string;
  output: number;
  /** The message's parts in order: text goes to an output_text part, a refusal to a refusal part. */
  parts: { type: 'output_text' | 'refusal'; text: string }[];
}
interface OpenCall {
  kind: 'call';
  id: string;
  /** -1 until the call's name is known and its item added. */
  output: number;
  call: ChatToolCall;
  custom: boolean;
  /** Argument fragments that came before the name. */
  unsent: string;
}
type OpenItem = OpenReasoning | OpenMessage | OpenCall;

/** Translates one call's chat chunks into Responses events. */
export class ResponsesEventStream implements AgentEventStream {
  ended = false;
  private started = false;
  private sequence = 0;
  private open: OpenItem | undefined;
  /** Finished output items, by output index. */
  private readonly output: Json[] = [];
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: string | null = null;
  private usage: ChatUsage | undefined;

  constructor(
    private readonly state: ResponsesState,
    private readonly store: ResponsesStore,
    private readonly index = 0,
  ) {}

  start(): string {
    if (this.started || this.ended) return '';
    this.started = true;
    const response = responseText(this.state, 'in_progress', [], null);
    return this.emitResponse('response.created', response) + this.emitResponse('response.in_progress', response);
  }

  push(chunkText: string): string {
    if (this.ended) return '';
    const delta = readChunk(chunkText);
    if (delta === undefined) return '';
    if (delta.error !== undefined) return failWith(this, new UpstreamError(upstreamMessage(delta.error)));
    let out = this.start();
    if (delta.usage !== undefined) this.usage = delta.usage;
    if (delta.reasoning !== '') out += this.reasoning(delta.reasoning);
    const signature = delta.opaque.find((b) => typeof b.signature === 'string' && b.signature !== '')?.signature;
    if (typeof signature === 'string') {
      out += this.reasoning('');
      (this.open as OpenReasoning).encrypted = signature;
    }
    if (delta.text !== '') out += this.messageText('output_text', delta.text);
    if (delta.refusal !== '') out += this.messageText('refusal', delta.refusal);
    for (const call of delta.toolCalls) out += this.toolCall(call);
    if (delta.finishReason !== undefined) this.finishReason = delta.finishReason;
    return out;
  }

  end(): string {
    if (this.ended) return '';
    let out = this.start();
    const nameless = [...this.calls.values()].find((c) => c.output === -1);
    if (nameless !== undefined) {
      return out + failWith(this, new BadResponseError(this.index, "a tool call in the runtime's answer has no function name; name the tool it calls"));
    }
    out += this.closeItem();
    const { status, incomplete_details } = finishStatus(this.finishReason);
    const response = responseText(this.state, status, this.output, responsesUsage(this.usage ?? readUsage(undefined)), { incomplete_details });
    out += this.emitResponse(status === 'incomplete' ? 'response.incomplete' : 'response.completed', response);
    remember(this.store, this.state, this.output);
    this.ended = true;
    return out;
  }

  heartbeat(): string {
    if (this.ended) return '';
    // Codex resets its idle timer on events, not on comments; the client ignores a repeated in_progress.
    return this.started ? this.emitResponse('response.in_progress', responseText(this.state, 'in_progress', this.output, null)) : SSE_KEEP_ALIVE;
  }

  /**
   * `error` first, which the openai client throws as an APIError (it reads the event's `error`
   * field); then `response.failed`, from which Codex takes the message.
   */
  fail(status: number, code: string, message: string): string {
    if (this.ended) return '';
    this.ended = true;
    const error = openAiError(status, code, message);
    const out = this.emit('error', { code, message, param: null, error });
    return out + this.emitResponse('response.failed', responseText(this.state, 'failed', this.output, null, { error: { code, message } }));
  }

  private emit(type: string, fields: Json): string {
    return sseEvent(type, JSON.stringify({ type, sequence_number: this.sequence++, ...fields }));
  }

  private emitResponse(type: string, response: string): string {
    return sseEvent(type, `{"type":${JSON.stringify(type)},"sequence_number":${this.sequence++},"response":${response}}`);
  }

  private openItem(item: OpenItem, added: Json): string {
    const out = this.closeItem();
    item.output = this.output.length;
    this.output.push(added);
    this.open = item;
    return out + this.emit('response.output_item.added', { output_index: item.output, item: added });
  }

  private reasoning(text: string): string {
    let out = '';
    if (this.open?.kind !== 'reasoning') {
      const item: OpenReasoning = { kind: 'reasoning', id: newId('rs_'), output: -1, text: '' };
      out += this.openItem(item, this.state.reasoningSummary ? { id: item.id, type: 'reasoning', summary: [] } : { id: item.id, type: 'reasoning', summary: [], content: [] });
      const at = { item_id: item.id, output_index: item.output };
      out += this.state.reasoningSummary
        ? this.emit('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: { type: 'summary_text', text: '' } })
        : this.emit('response.content_part.added', { ...at, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    }
    const item = this.open as OpenReasoning;
    if (text === '') return out;
    item.text += text;
    const at = { item_id: item.id, output_index: item.output };
    return (
      out +
      (this.state.reasoningSummary
        ? this.emit('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta: text })
        : this.emit('response.reasoning_text.delta', { ...at, content_index: 0, delta: text }))
    );
  }

  private messageText(type: 'output_text' | 'refusal', text: string): string {
    let out = '';
    if (this.open?.kind !== 'message') {
      const item: OpenMessage = { kind: 'message', id: newId('msg_'), output: -1, parts: [] };
      out += this.openItem(item, messageItem(item.id, [], 'in_progress'));
    }
    const item = this.open as OpenMessage;
    const at = { item_id: item.id, output_index: item.output };
    let part = item.parts.at(-1);
    if (part?.type !== type) {
      part = { type, text: '' };
      item.parts.push(part);
      out += this.emit('response.content_part.added', { ...at, content_index: item.parts.length - 1, part: emptyPart(type) });
    }
    part.text += text;
    const contentIndex = item.parts.length - 1;
    return (
      out +
      (type === 'output_text'
        ? this.emit('response.output_text.delta', { ...at, content_index: contentIndex, delta: text, logprobs: [] })
        : this.emit('response.refusal.delta', { ...at, content_index: contentIndex, delta: text }))
    );
  }

  private toolCall(fragment: Json): string {
    const at = typeof fragment.index === 'number' ? fragment.index : 0;
    const fn = isJsonObject(fragment.function) ? fragment.function : {};
    let call = this.calls.get(at);
    if (call === undefined) {
      const id = typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : newId('call_');
      call = { kind: 'call', id: '', output: -1, call: { id, type: 'function', name: '', arguments: '' }, custom: false, unsent: '' };
      this.calls.set(at, call);
    }
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    call.call.arguments += args;
    if (call.output !== -1) return args === '' || call.custom ? '' : this.argumentsDelta(call, args);
    if (typeof fn.name === 'string' && fn.name !== '') call.call.name = fn.name;
    if (call.call.name === '') {
      call.unsent += args;
      return '';
    }
    call.custom = agentToolName(this.state.tools, call.call.name).custom === true;
    call.id = newId(call.custom ? 'ctc_' : 'fc_');
    const added = callItem(call.id, { ...call.call, arguments: '' }, this.state, 'in_progress');
    if (call.custom) added.input = '';
    let out = this.openItem(call, added);
    const pending = call.unsent + args;
    call.unsent = '';
    if (pending !== '' && !call.custom) out += this.argumentsDelta(call, pending);
    return out;
  }

  private argumentsDelta(call: OpenCall, delta: string): string {
    return this.emit('response.function_call_arguments.delta', { item_id: call.id, output_index: call.output, delta });
  }

  /** Emits the events that finish the open item, and puts the finished item in the output. */
  private closeItem(): string {
    const item = this.open;
    if (item === undefined) return '';
    this.open = undefined;
    const at = { item_id: item.id, output_index: item.output };
    let out = '';
    let done: Json;
    if (item.kind === 'reasoning') {
      if (this.state.reasoningSummary) {
        out += this.emit('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: item.text });
        out += this.emit('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: { type: 'summary_text', text: item.text } });
      } else {
        out += this.emit('response.reasoning_text.done', { ...at, content_index: 0, text: item.text });
        out += this.emit('response.content_part.done', { ...at, content_index: 0, part: { type: 'reasoning_text', text: item.text } });
      }
      done = reasoningItem(item.id, item.text, item.encrypted, this.state);
    } else if (item.kind === 'message') {
      const parts = item.parts.map((part, k) => {
        const finished = part.type === 'output_text' ? outputText(part.text) : { type: 'refusal', refusal: part.text };
        out +=
          part.type === 'output_text'
            ? this.emit('response.output_text.done', { ...at, content_index: k, text: part.text, logprobs: [] })
            : this.emit('response.refusal.done', { ...at, content_index: k, refusal: part.text });
        out += this.emit('response.content_part.done', { ...at, content_index: k, part: finished });
        return finished;
      });
      done = messageItem(item.id, parts, 'completed');
    } else {
      done = callItem(item.id, item.call, this.state, 'completed');
      if (item.custom) {
        out += this.emit('response.custom_tool_call_input.delta', { ...at, delta: done.input });
        out += this.emit('response.custom_tool_call_input.done', { ...at, input: done.input });
      } else out += this.emit('response.function_call_arguments.done', { ...at, name: done.name, arguments: item.call.arguments });
    }
    this.output[item.output] = done;
    return out + this.emit('response.output_item.done', { output_index: item.output, item: done });
  }
}

function emptyPart(type: 'output_text' | 'refusal'): Json {
  return type === 'output_text' ? outputText('') : { type: 'refusal', refusal: '' };
}

/**
 * Native mode: the events of a Responses `response` object, as the API would have streamed it.
 * @throws BadResponseError when the text is not a Responses response object.
 */
export function responseToEvents(responseText: string, index = 0): string {
  const json = new ExactJson();
  const response = json.readAnswer(responseText, index, 'a Responses response object', 'output');
  const output = response.output as unknown[];
  let sequence = 0;
  const emit = (type: string, fields: Json): string => sseEvent(type, json.write({ type, sequence_number: sequence++, ...fields }));
  const opening = { ...response, status: 'in_progress', output: [], usage: null };
  let out = emit('response.created', { response: opening }) + emit('response.in_progress', { response: opening });
  output.forEach((item, output_index) => {
    if (!isJsonObject(item)) return;
    const at = { item_id: item.id, output_index };
    if (item.type === 'message' && Array.isArray(item.content)) {
      out += emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      item.content.forEach((part, content_index) => {
        if (!isJsonObject(part)) return;
        const refusal = part.type === 'refusal';
        out += emit('response.content_part.added', { ...at, content_index, part: refusal ? { ...part, refusal: '' } : { ...part, text: '' } });
        if (refusal) {
          out += emit('response.refusal.delta', { ...at, content_index, delta: part.refusal });
          out += emit('response.refusal.done', { ...at, content_index, refusal: part.refusal });
        } else {
          out += emit('response.output_text.delta', { ...at, content_index, delta: part.text, logprobs: [] });
          out += emit('response.output_text.done', { ...at, content_index, text: part.text, logprobs: [] });
        }
        out += emit('response.content_part.done', { ...at, content_index, part });
      });
    } else if (item.type === 'function_call') {
      out += emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      out += emit('response.function_call_arguments.delta', { ...at, delta: item.arguments });
      out += emit('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments });
    } else if (item.type === 'custom_tool_call') {
      out += emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', input: '' } });
      out += emit('response.custom_tool_call_input.delta', { ...at, delta: item.input });
      out += emit('response.custom_tool_call_input.done', { ...at, input: item.input });
    } else if (item.type === 'reasoning') {
      out += emit('response.output_item.added', { output_index, item: { ...item, summary: [], ...(Array.isArray(item.content) ? { content: [] } : {}) } });
      (Array.isArray(item.summary) ? item.summary : []).forEach((part, summary_index) => {
        if (!isJsonObject(part)) return;
        out += emit('response.reasoning_summary_part.added', { ...at, summary_index, part: { ...part, text: '' } });
        out += emit('response.reasoning_summary_text.delta', { ...at, summary_index, delta: part.text });
        out += emit('response.reasoning_summary_text.done', { ...at, summary_index, text: part.text });
        out += emit('response.reasoning_summary_part.done', { ...at, summary_index, part });
      });
      (Array.isArray(item.content) ? item.content : []).forEach((part, content_index) => {
        if (!isJsonObject(part)) return;
        out += emit('response.content_part.added', { ...at, content_index, part: { ...part, text: '' } });
        out += emit('response.reasoning_text.delta', { ...at, content_index, delta: part.text });
        out += emit('response.reasoning_text.done', { ...at, content_index, text: part.text });
        out += emit('response.content_part.done', { ...at, content_index, part });
      });
    } else {
      out += emit('response.output_item.added', { output_index, item });
    }
    out += emit('response.output_item.done', { output_index, item });
  });
  const terminal = response.status === 'incomplete' ? 'response.incomplete' : response.status === 'failed' ? 'response.failed' : 'response.completed';
  return out + emit(terminal, { response });
}
