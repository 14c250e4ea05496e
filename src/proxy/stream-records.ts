/**
 * What the recording keeps of a streamed answer: the events read on the side as they pass,
 * folded into the final object of their API, within record_max_bytes. Chat Completions chunks
 * become a chat.completion (ChatStreamAggregator); Messages events become the `message` the
 * @anthropic-ai/sdk's finalMessage() would give; Responses events become the `response` of
 * their closing event (`response.completed`, `.incomplete` or `.failed`), which carries every
 * output item, or, when the stream broke before it, the items finished so far.
 */
import { ChatStreamAggregator, type RecordTruncation } from '../wire/chat-stream-aggregator.js';
import { ExactJson } from '../wire/exact-json.js';
import { isJsonObject, parseJsonObject, type JsonObject as Json } from '../wire/json-object.js';
import { RawJson } from './recorder.js';
import { SseReader, type SseEvent } from '../wire/sse-reader.js';

/** A side reader of one streamed answer, for its record. */
export interface StreamRecord {
  push(bytes: Buffer | string): void;
  end(): void;
  /** @returns the answer as the record holds it (null when nothing could be read). */
  result(): unknown;
  /** What the record leaves out, if anything. */
  readonly truncated: RecordTruncation | undefined;
  /** Events left out because they were not JSON objects. */
  readonly skipped: number;
  /** The answer's usage, in its API's shape (metrics read all three). */
  readonly usage: unknown;
  /** The message of an error event in the stream: the call failed although its stream ended. */
  readonly streamError: string | undefined;
}

/** @returns the record of a Chat Completions stream. */
export function chatStreamRecord(maxBytes: number): StreamRecord {
  return new ChatStreamRecord(maxBytes);
}

/** @returns the record of a stream in `api` (`messages` or `responses`). */
export function agentStreamRecord(api: string, maxBytes: number): StreamRecord {
  return api === 'messages' ? new MessagesStreamRecord(maxBytes) : new ResponsesStreamRecord(maxBytes);
}

class ChatStreamRecord implements StreamRecord {
  private readonly aggregator: ChatStreamAggregator;
  private response: Json | undefined;
  readonly streamError = undefined;

  constructor(maxBytes: number) {
    this.aggregator = new ChatStreamAggregator({ maxBytes });
  }

  push(bytes: Buffer | string): void {
    this.aggregator.push(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  end(): void {
    this.aggregator.end();
  }

  result(): Json {
    return (this.response ??= this.aggregator.result());
  }

  get truncated(): RecordTruncation | undefined {
    return this.aggregator.truncated;
  }

  get skipped(): number {
    return this.aggregator.skipped;
  }

  get usage(): unknown {
    return this.result().usage;
  }
}

/**
 * Past the bound only small events are read, and only those that close the answer (its stop
 * reason and usage, or an error), so an endless stream costs no parsing once past it.
 */
const LATE_EVENT_MAX_BYTES = 64 * 1024;

/** The bound and the bookkeeping both agent API records share. */
abstract class AgentStreamRecord implements StreamRecord {
  private readonly reader: SseReader;
  private keptBytes = 0;
  private pastBound = false;
  truncated: Required<RecordTruncation> | undefined;
  skipped = 0;
  streamError: string | undefined;

  constructor(private readonly maxBytes: number) {
    this.reader = new SseReader(maxBytes);
  }

  push(bytes: Buffer | string): void {
    for (const event of this.reader.push(bytes)) this.onEvent(event);
    this.noteOverlong();
  }

  end(): void {
    for (const event of this.reader.end()) this.onEvent(event);
    this.noteOverlong();
  }

  abstract result(): unknown;
  abstract readonly usage: unknown;

  /** Folds one event into the answer; `late`: past the bound, where only closing events come. */
  protected abstract take(event: Json, late: boolean): void;

  /** Whether an event past the bound is still read. */
  protected abstract isClosing(data: string, bytes: number): boolean;

  /** Whether an event within the bound is worth parsing (one whose type the record never takes is not). */
  protected isWanted(_data: string): boolean {
    return true;
  }

  private noteOverlong(): void {
    if (this.reader.overlong === 0 || this.truncated !== undefined) return;
    this.cut(`an event longer than record_max_bytes (${this.maxBytes} bytes) was passed to the client but left out of the record`, this.reader.firstOverlongAt ?? 0);
  }

  private cut(reason: string, atBytes: number): void {
    this.truncated ??= { reason, at_bytes: atBytes, limit_bytes: this.maxBytes };
  }

  private onEvent(event: SseEvent): void {
    if (event.data === '') return;
    if (!this.pastBound && this.keptBytes + event.bytes > this.maxBytes) {
      this.cut(`the answer passed record_max_bytes (${this.maxBytes} bytes): later events were passed to the client but left out of the record`, event.at);
      this.pastBound = true;
    }
    if (this.pastBound ? !this.isClosing(event.data, event.bytes) : !this.isWanted(event.data)) return;
    const parsed = parseJsonObject(event.data);
    if (parsed === undefined) {
      this.skipped++;
      return;
    }
    if (!this.pastBound) this.keptBytes += event.bytes;
    if (parsed.type === 'error') {
      this.streamError ??= errorMessage(parsed.error);
      return;
    }
    this.take(parsed, this.pastBound);
  }
}

function errorMessage(error: unknown): string {
  if (isJsonObject(error) && typeof error.message === 'string') return error.message;
  return JSON.stringify(error ?? null);
}

interface BlockParts {
  block: Json;
  /** Delta texts by the field they extend (text, thinking, signature), joined at the end. */
  texts: Map<string, string[]>;
  /** input_json_delta fragments of a tool_use block. */
  inputJson: string[];
  citations: unknown[];
}

/** The fields each text delta type extends. */
const DELTA_FIELDS: Readonly<Record<string, [field: string, value: string]>> = {
  text_delta: ['text', 'text'],
  thinking_delta: ['thinking', 'thinking'],
  signature_delta: ['signature', 'signature'],
};

const MESSAGES_CLOSING = /"type"\s*:\s*"(message_delta|message_stop|error)"/;

/** Messages events → the `message` object they amount to (tool inputs with their numbers as written). */
class MessagesStreamRecord extends AgentStreamRecord {
  private message: Json | undefined;
  private readonly blocks = new Map<number, BlockParts>();

  protected isClosing(data: string, bytes: number): boolean {
    return bytes <= LATE_EVENT_MAX_BYTES && MESSAGES_CLOSING.test(data);
  }

  protected take(event: Json, late: boolean): void {
    if (event.type === 'message_delta') {
      const message = (this.message ??= {});
      if (isJsonObject(event.delta)) Object.assign(message, event.delta);
      if (isJsonObject(event.usage)) message.usage = { ...(isJsonObject(message.usage) ? message.usage : {}), ...event.usage };
      return;
    }
    if (late) return;
    const index = typeof event.index === 'number' ? event.index : -1;
    if (event.type === 'message_start' && isJsonObject(event.message)) {
      this.message = { ...event.message, ...this.message };
    } else if (event.type === 'content_block_start' && isJsonObject(event.content_block)) {
      this.blocks.set(index, { block: { ...event.content_block }, texts: new Map(), inputJson: [], citations: [] });
    } else if (event.type === 'content_block_delta' && isJsonObject(event.delta)) {
      const parts = this.blocks.get(index);
      if (parts !== undefined) addDelta(parts, event.delta);
    }
  }

  result(): unknown {
    if (this.message === undefined && this.blocks.size === 0) return null;
    const json = new ExactJson();
    const content = [...this.blocks.entries()].sort(([a], [b]) => a - b).map(([, parts]) => blockResult(parts, json));
    return new RawJson(Buffer.from(json.write({ ...this.message, content })));
  }

  get usage(): unknown {
    return this.message?.usage;
  }
}

function addDelta(parts: BlockParts, delta: Json): void {
  const field = typeof delta.type === 'string' ? DELTA_FIELDS[delta.type] : undefined;
  if (field !== undefined) {
    const value = delta[field[1]];
    if (typeof value !== 'string') return;
    const list = parts.texts.get(field[0]);
    if (list) list.push(value);
    else parts.texts.set(field[0], [value]);
  } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
    parts.inputJson.push(delta.partial_json);
  } else if (delta.type === 'citations_delta' && delta.citation !== undefined) {
    parts.citations.push(delta.citation);
  }
}

function blockResult(parts: BlockParts, json: ExactJson): Json {
  const block = parts.block;
  for (const [field, list] of parts.texts) block[field] = `${typeof block[field] === 'string' ? block[field] : ''}${list.join('')}`;
  if (parts.citations.length > 0) block.citations = [...(Array.isArray(block.citations) ? block.citations : []), ...parts.citations];
  if (parts.inputJson.length > 0) {
    const text = parts.inputJson.join('');
    try {
      block.input = json.read(text);
    } catch {
      // What the client got is not JSON: the record keeps it as it was sent.
      block.input = text;
    }
  }
  return block;
}

const RESPONSES_CLOSING = /"type"\s*:\s*"(response\.completed|response\.incomplete|response\.failed|error)"/;
/** The events the record takes; the deltas between them (most of a stream) are not parsed at all. */
const RESPONSES_WANTED = /"type"\s*:\s*"(response\.(created|in_progress|completed|incomplete|failed|output_item\.added|output_item\.done)|error)"/;
const RESPONSE_DONE = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** Responses events → the `response` of the closing event, or the one opened with the items finished so far. */
class ResponsesStreamRecord extends AgentStreamRecord {
  private opened: Json | undefined;
  private readonly items = new Map<number, unknown>();
  private final: Json | undefined;

  /** The closing event repeats every item: it is read at any size the reader passes (at most record_max_bytes), and replaces them. */
  protected isClosing(data: string): boolean {
    return RESPONSES_CLOSING.test(data.slice(0, 200));
  }

  protected override isWanted(data: string): boolean {
    return RESPONSES_WANTED.test(data.slice(0, 200));
  }

  protected take(event: Json, late: boolean): void {
    const type = typeof event.type === 'string' ? event.type : '';
    if (RESPONSE_DONE.has(type) && isJsonObject(event.response)) {
      this.final = event.response;
      this.items.clear();
      if (type === 'response.failed') this.streamError ??= errorMessage(event.response.error);
      return;
    }
    if (late || this.final !== undefined) return;
    if ((type === 'response.created' || type === 'response.in_progress') && isJsonObject(event.response)) this.opened = event.response;
    else if ((type === 'response.output_item.added' || type === 'response.output_item.done') && typeof event.output_index === 'number' && isJsonObject(event.item)) {
      this.items.set(event.output_index, event.item);
    }
  }

  result(): unknown {
    if (this.final !== undefined) return this.final;
    if (this.opened === undefined) return null;
    return { ...this.opened, output: [...this.items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item) };
  }

  get usage(): unknown {
    return this.final?.usage;
  }
}
