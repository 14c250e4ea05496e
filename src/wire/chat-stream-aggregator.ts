import { DEFAULT_RECORD_MAX_BYTES } from '../config/defaults.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth.js';
import { isJsonObject, parseJsonObject, type JsonObject as Json } from './json-object.js';
import { SseReader, type SseEvent } from './sse-reader.js';

/**
 * What a record left out, written as the record's `truncated` field: `reason` says what and why
 * (the first thing left out); `at_bytes` is the offset in the upstream's answer where the first
 * event left out begins, and `limit_bytes` the record_max_bytes in force.
 */
export interface RecordTruncation {
  reason: string;
  at_bytes?: number;
  limit_bytes?: number;
}

export interface ChatStreamAggregatorOptions {
  /** The most bytes of events folded into the aggregate (record_max_bytes); later events are only passed on. */
  maxBytes?: number;
}

interface ToolCallParts {
  id?: unknown;
  type?: unknown;
  name?: unknown;
  args: string[];
  extra: Json;
}

interface ChoiceParts {
  index: number;
  role?: unknown;
  /** String delta fields (content, reasoning_content, refusal, vendor ones), joined at the end. */
  text: Map<string, string[]>;
  /** Non-string delta fields other than tool calls: the last value wins. */
  other: Json;
  toolCalls: Map<number, ToolCallParts>;
  functionCall?: { name?: unknown; args: string[] };
  finishReason: unknown;
  /** undefined: no chunk had the key; null: it was always null. */
  logprobs: unknown[] | null | undefined;
}

/**
 * After the record is cut, an event is still read for the choice's finish reason and the usage,
 * which come last; only one this small, and only when it names one of them, so an endless
 * stream costs no parsing once it is past the bound.
 */
const LATE_EVENT_MAX_CHARS = 64 * 1024;
const LATE_EVENT = /"usage"|"finish_reason"\s*:\s*"|\[DONE\]/;

/**
 * Reads an OpenAI chat-completion SSE stream as it passes through and builds the
 * chat.completion it amounts to. It never changes or holds back the bytes: an event
 * that is not JSON is only left out of the aggregate. What it keeps is bounded by
 * `maxBytes` of events (an event nested too deeply to record is left out too); what it
 * left out is described by `truncated`.
 */
export class ChatStreamAggregator {
  private readonly reader: SseReader;
  private readonly maxBytes: number;
  /** The kept events reached maxBytes: later ones are only read for their finish reason and usage. */
  private pastBound = false;
  /** UTF-8 bytes of the events folded into the aggregate. */
  private keptBytes = 0;
  private readonly top: Json = {};
  private readonly choices = new Map<number, ChoiceParts>();
  private usage: unknown;
  /** True once `data: [DONE]` arrived. */
  done = false;
  /** How many events were left out because they were not JSON objects. */
  skipped = 0;
  /** What the aggregate left out, if anything; the record carries it as `truncated`. */
  truncated: Required<RecordTruncation> | undefined;

  constructor(options: ChatStreamAggregatorOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_RECORD_MAX_BYTES;
    // An event longer than the whole bound can never be kept: the reader drops it as it grows.
    this.reader = new SseReader(this.maxBytes);
  }

  /** Takes the next bytes of the stream. */
  push(bytes: Buffer): void {
    for (const event of this.reader.push(bytes)) this.onEvent(event);
    this.noteOverlong();
  }

  /** Takes the end of the stream: a last event without its blank line still counts. */
  end(): void {
    for (const event of this.reader.end()) this.onEvent(event);
    this.noteOverlong();
  }

  /** @returns the chat.completion the chunks so far amount to. */
  result(): Json {
    const out: Json = { ...this.top, object: 'chat.completion' };
    out.choices = [...this.choices.values()].sort((a, b) => a.index - b.index).map(choiceResult);
    if (this.usage !== undefined) out.usage = this.usage;
    return out;
  }

  private noteOverlong(): void {
    if (this.reader.overlong === 0 || this.truncated !== undefined) return;
    this.cut(`an event longer than record_max_bytes (${this.maxBytes} bytes) was passed to the client but left out of the record`, this.reader.firstOverlongAt ?? 0);
    this.pastBound = true;
  }

  /** Notes the first thing left out; `atBytes` is where in the stream the event left out starts. */
  private cut(reason: string, atBytes: number): void {
    this.truncated ??= { reason, at_bytes: atBytes, limit_bytes: this.maxBytes };
  }

  private onEvent({ data, bytes, at }: SseEvent): void {
    if (!this.pastBound && this.keptBytes + bytes > this.maxBytes) {
      this.cut(`the answer passed record_max_bytes (${this.maxBytes} bytes): later events were passed to the client but left out of the record`, at);
      this.pastBound = true;
    }
    if (this.pastBound && !(data.length <= LATE_EVENT_MAX_CHARS && LATE_EVENT.test(data))) return;
    if (data === '') return;
    if (data.trim() === '[DONE]') {
      this.done = true;
      return;
    }
    const chunk = parseJsonObject(data);
    if (chunk === undefined) {
      this.skipped++;
      return;
    }
    // The record nests a chunk's values no deeper than the chunk does, plus one level for the record itself.
    if (jsonDepthExceeds(chunk, MAX_JSON_DEPTH - 1)) {
      this.cut(`an event nested deeper than a record may be (${MAX_JSON_DEPTH} levels) was passed to the client but left out of the record`, at);
      return;
    }
    if (this.pastBound) {
      this.onLateChunk(chunk);
      return;
    }
    this.keptBytes += bytes;
    this.onChunk(chunk);
  }

  /** Past the bound: only the finish reasons of choices already kept, and the usage. */
  private onLateChunk(chunk: Json): void {
    if (isJsonObject(chunk.usage)) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      if (!isJsonObject(c)) continue;
      const parts = this.choices.get(typeof c.index === 'number' ? c.index : 0);
      if (parts && typeof c.finish_reason === 'string') parts.finishReason = c.finish_reason;
    }
  }

  private onChunk(chunk: Json): void {
    for (const [key, value] of Object.entries(chunk)) {
      if (key === 'choices' || key === 'usage' || key === 'object') continue;
      if (!(key in this.top) && value !== null && value !== undefined) this.top[key] = value;
    }
    if (isJsonObject(chunk.usage)) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      if (!isJsonObject(c)) continue;
      const index = typeof c.index === 'number' ? c.index : 0;
      let parts = this.choices.get(index);
      if (!parts) {
        parts = { index, text: new Map(), other: {}, toolCalls: new Map(), finishReason: null, logprobs: undefined };
        this.choices.set(index, parts);
      }
      if (isJsonObject(c.delta)) addDelta(parts, c.delta);
      if (c.finish_reason !== null && c.finish_reason !== undefined) parts.finishReason = c.finish_reason;
      if (isJsonObject(c.logprobs) && Array.isArray(c.logprobs.content)) {
        // One push per entry: spreading 130 000 entries into push() overflows the stack.
        const kept = (parts.logprobs ??= []);
        for (const entry of c.logprobs.content) kept.push(entry);
      } else if ('logprobs' in c && parts.logprobs === undefined) parts.logprobs = null;
    }
  }
}

function addDelta(parts: ChoiceParts, delta: Json): void {
  for (const [key, value] of Object.entries(delta)) {
    if (key === 'role') {
      if (value !== null && value !== undefined) parts.role ??= value;
    } else if (key === 'tool_calls') {
      if (Array.isArray(value)) for (const call of value) if (isJsonObject(call)) addToolCall(parts, call);
    } else if (key === 'function_call') {
      if (isJsonObject(value)) {
        const fc = (parts.functionCall ??= { args: [] });
        if (fc.name === undefined && typeof value.name === 'string' && value.name !== '') fc.name = value.name;
        if (typeof value.arguments === 'string') fc.args.push(value.arguments);
      }
    } else if (typeof value === 'string') {
      const list = parts.text.get(key);
      if (list) list.push(value);
      else parts.text.set(key, [value]);
    } else if (value !== null && value !== undefined) {
      parts.other[key] = value;
    }
  }
}

function addToolCall(parts: ChoiceParts, call: Json): void {
  const index = typeof call.index === 'number' ? call.index : parts.toolCalls.size;
  let tc = parts.toolCalls.get(index);
  if (!tc) {
    tc = { args: [], extra: {} };
    parts.toolCalls.set(index, tc);
  }
  // The first fragment carries id, type and name; later ones repeat them empty, if at all.
  if (tc.id === undefined && typeof call.id === 'string' && call.id !== '') tc.id = call.id;
  if (tc.type === undefined && typeof call.type === 'string' && call.type !== '') tc.type = call.type;
  const fn = isJsonObject(call.function) ? call.function : {};
  if (tc.name === undefined && typeof fn.name === 'string' && fn.name !== '') tc.name = fn.name;
  if (typeof fn.arguments === 'string') tc.args.push(fn.arguments);
  for (const [key, value] of Object.entries(call)) {
    if (!['index', 'id', 'type', 'function'].includes(key) && value !== null && value !== undefined) tc.extra[key] = value;
  }
}

function choiceResult(parts: ChoiceParts): Json {
  const message: Json = { role: parts.role ?? 'assistant', content: null };
  for (const [key, list] of parts.text) message[key] = list.join('');
  Object.assign(message, parts.other);
  if (parts.toolCalls.size > 0) {
    message.tool_calls = [...parts.toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, tc]) => ({
        ...tc.extra,
        id: tc.id ?? null,
        type: tc.type ?? 'function',
        function: { name: tc.name ?? '', arguments: tc.args.join('') },
      }));
  }
  if (parts.functionCall) {
    message.function_call = { name: parts.functionCall.name ?? '', arguments: parts.functionCall.args.join('') };
  }
  const out: Json = { index: parts.index, message };
  if (parts.logprobs !== undefined) out.logprobs = parts.logprobs === null ? null : { content: parts.logprobs };
  out.finish_reason = parts.finishReason;
  return out;
}
