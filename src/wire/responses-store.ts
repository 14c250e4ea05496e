/**
 * The session's Responses, kept so that a call naming `previous_response_id` can be expanded into
 * the whole conversation (docs/agent-apis.md). In memory only, bounded in count and bytes (the oldest
 * go first), never across a restart; `store: false` responses are never put here.
 *
 * Each entry keeps only its own call's input items and its output items, with a link to the
 * response before it, so a conversation of N turns costs N entries rather than N² items. Items
 * are kept as JSON text (numbers as written), and a chain is read back as one JSON array text.
 */
import { UnknownResponseError } from '../errors.js';
import { DEFAULT_RESPONSES_STORE_LIMITS } from '../config/defaults.js';

export interface ResponsesStoreOptions {
  /** At most this many responses are kept (default 1000). */
  maxResponses?: number;
  /** At most this many bytes of item text are kept (default 64 MiB). */
  maxBytes?: number;
}


interface StoredResponse {
  previous: string | null;
  /** JSON array text of the call's own input items. */
  input: string;
  /** JSON array text of the response's output items. */
  output: string;
  bytes: number;
}

export class ResponsesStore {
  private readonly entries = new Map<string, StoredResponse>();
  private bytes = 0;
  readonly maxResponses: number;
  readonly maxBytes: number;

  constructor(options: ResponsesStoreOptions = {}) {
    this.maxResponses = options.maxResponses ?? DEFAULT_RESPONSES_STORE_LIMITS.maxResponses;
    this.maxBytes = options.maxBytes ?? DEFAULT_RESPONSES_STORE_LIMITS.maxBytes;
  }

  /** How many responses are kept. */
  get size(): number {
    return this.entries.size;
  }

  /** How many bytes of item text are kept. */
  get byteSize(): number {
    return this.bytes;
  }

  /**
   * Keeps a response: its id, the response it continued, and its input and output items as JSON
   * array texts. One larger than the whole byte bound is not kept.
   */
  put(id: string, previous: string | null, input: string, output: string): void {
    this.delete(id);
    const bytes = Buffer.byteLength(input) + Buffer.byteLength(output) + Buffer.byteLength(id);
    if (bytes > this.maxBytes || this.maxResponses < 1) return;
    this.entries.set(id, { previous, input, output, bytes });
    this.bytes += bytes;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxResponses && this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  /**
   * Returns the conversation that `id` ended, oldest first (each response's input items, then its
   * output items), as one JSON array text.
   * @throws UnknownResponseError when `id`, or a response before it, is not kept.
   */
  history(id: string): string {
    const parts: string[] = [];
    let current: string | null = id;
    // Bounded by the entry count, so a cycle (an id reused as its own ancestor) cannot spin.
    for (let steps = 0; current !== null && steps <= this.entries.size; steps++) {
      const entry = this.entries.get(current);
      if (entry === undefined) throw this.unknown(id, current);
      parts.push(inner(entry.output), inner(entry.input));
      current = entry.previous;
    }
    return `[${parts.filter((p) => p !== '').reverse().join(',')}]`;
  }

  private delete(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
  }

  private unknown(id: string, missing: string): UnknownResponseError {
    const why =
      `it was not made by this service since it started, was made with store: false, or was evicted by the bound ` +
      `(${this.maxResponses} responses, ${this.maxBytes} bytes)`;
    const message =
      missing === id
        ? `previous_response_id ${JSON.stringify(id)} names no response this service keeps: ${why}; send the whole conversation in input instead`
        : `previous_response_id ${JSON.stringify(id)} continues ${JSON.stringify(missing)}, which this service no longer keeps: ${why}; send the whole conversation in input instead`;
    return new UnknownResponseError(id, message);
  }
}

/** Returns the items of a JSON array text without its brackets ('' for an empty array). */
function inner(arrayText: string): string {
  return arrayText.slice(1, -1);
}
