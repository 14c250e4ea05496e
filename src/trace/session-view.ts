/**
 * A session fed record by record, the same for a file read once and for a live log: each
 * request is compared with the requests before it and only what it adds is kept; each
 * response completes its turn. Memory follows the recent turns, not the log: of earlier
 * requests only a hash per message is kept (a megabyte conversation is not held twice), and
 * only the requests still waiting for their answer are held whole.
 */
import { createHash } from 'node:crypto';
import { parseKeepingNumbers } from '../protocol/exact-numbers.js';
import { arrayElements, objectMembers, parseSlice, sliceText, type Slice } from './json-slices.js';
import type { Message, Part, PayloadShape, SessionEnd, TraceEvent, Turn } from './model.js';
import { messageOf, readAnswer, systemText, toolNames, type Stringify } from './normalise.js';

/** A JSON value's bytes inside a buffer. */
export interface JsonBytes {
  buf: Buffer;
  slice: Slice;
}

/** One record of a source, in file order. `offset` is the byte offset of its line. */
export type SessionInput =
  | { kind: 'request'; index: number; offset: number; at?: number; endpoint?: string; payload: JsonBytes }
  | { kind: 'response'; index: number; offset: number; at?: number; payload: JsonBytes }
  | { kind: 'session_end'; offset: number; at?: number }
  | {
      kind: 'call';
      index: number;
      offset: number;
      endpoint?: string;
      request: JsonBytes;
      response: JsonBytes | null;
      requestedAt?: number;
      answeredAt?: number;
      latencyMs?: number;
      error?: string;
      statusCode?: number;
    }
  | { kind: 'skipped'; offset: number; reason: string };

export interface SessionViewOptions {
  /**
   * Keep completed turns for `snapshot()` up to about this many bytes of text; older turns
   * keep their header and lose their messages (`elided`). Default 0: keep none (a file read once).
   */
  retainBytes?: number;
}

/** What a session looks like now (`GET /session`). */
export interface SessionSnapshot {
  state: 'active' | 'ended';
  /** Completed and waiting turns, by index. */
  turns: Turn[];
  /** Calls waiting for their answer, with when they arrived (epoch ms). */
  waiting: { index: number; since?: number }[];
  endedAt?: number;
  skipped: number;
  /** Turns whose messages were dropped to stay within `retainBytes`. */
  elided: number;
}

/** The messages of one earlier request, as hashes, to diff the next ones against. */
interface Thread {
  index: number;
  hashes: string[];
  system: string | undefined;
  tools: string | undefined;
  /** The signature of this request's answer, once it came (see answerSignature). */
  answer?: string;
}

/** What an assistant message says, less its reasoning (agents often leave reasoning out of the history they send back). */
function answerSignature(parts: readonly Part[]): string {
  return JSON.stringify(parts.filter((p) => p.type !== 'reasoning').map((p) => [p.type, p.name, p.id, p.text]));
}

export const DEFAULT_ENDPOINT = '/v1/chat/completions';
/** Earlier requests a new one is compared with: an agent interleaves side calls (titles, summaries) with its main conversation. */
const THREADS = 8;

const hashOf = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('base64');

function parseExact(buf: Buffer, slice: Slice): { value: unknown; stringify: Stringify } | undefined {
  const text = sliceText(buf, slice);
  if (text === undefined) return undefined;
  try {
    const { value, restore } = parseKeepingNumbers(text);
    return { value, stringify: (v) => restore(JSON.stringify(v) ?? 'null') };
  } catch {
    return undefined;
  }
}

function safely(show: () => string): string {
  try {
    return show();
  } catch (err) {
    return `(cannot be shown: ${(err as Error).message})`;
  }
}

function safeReadAnswer(value: unknown, stringify: Stringify): ReturnType<typeof readAnswer> {
  try {
    return readAnswer(value, stringify);
  } catch (err) {
    return { answer: null, error: `the response cannot be shown: ${(err as Error).message}` };
  }
}

function textSize(turn: Turn): number {
  let n = 256 + (turn.system?.length ?? 0);
  for (const m of turn.added) for (const p of m.parts) n += p.text.length;
  for (const p of turn.answer?.parts ?? []) n += p.text.length;
  return n;
}

/** Session state built from records; see the file comment. */
export class SessionView {
  readonly #listeners = new Set<(event: TraceEvent) => void>();
  readonly #retainBytes: number;
  #threads: Thread[] = [];
  #pending = new Map<number, Turn>();
  #answered = new Set<number>();
  #retained: Turn[] = [];
  #retainedBytes = 0;
  /** Retained turns before this position are elided already. */
  #elideCursor = 0;
  #elided = 0;
  #skipped = 0;
  #ended = false;
  #endedAt: number | undefined;

  constructor(options: SessionViewOptions = {}) {
    this.#retainBytes = options.retainBytes ?? 0;
  }

  /** Subscribes to events; returns the unsubscribe function. A listener that throws does not stop the others. */
  onEvent(listener: (event: TraceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Returns whether SESSION_END was read. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Takes one record. Never throws for content: what cannot be read becomes a `skipped` event or a failed turn. */
  add(input: SessionInput): void {
    switch (input.kind) {
      case 'request': {
        if (this.#pending.has(input.index) || this.#answered.has(input.index)) {
          this.#skip(input.offset, `request ${input.index} appears twice; the first one stands`);
          return;
        }
        const turn = this.#requestTurn(input.index, input.endpoint, input.payload, input.at);
        this.#pending.set(input.index, turn);
        this.#emit({ type: 'request', turn });
        return;
      }
      case 'response':
        this.#respond(input.index, input.offset, input.payload, input.at);
        return;
      case 'call': {
        const turn = this.#requestTurn(input.index, input.endpoint, input.request, input.requestedAt);
        if (input.statusCode !== undefined) turn.statusCode = input.statusCode;
        this.#emit({ type: 'request', turn });
        this.#complete(turn, input.response, input.answeredAt, input.latencyMs, input.error);
        return;
      }
      case 'session_end':
        if (this.#ended) return;
        this.#ended = true;
        this.#endedAt = input.at;
        this.#emit({ type: 'session_end', ...(input.at !== undefined ? { at: input.at } : {}) } satisfies SessionEnd);
        return;
      case 'skipped':
        this.#skip(input.offset, input.reason);
        return;
    }
  }

  /** A finite source is done: the requests still waiting become `unanswered` turns, by index. */
  finish(): void {
    const waiting = [...this.#pending.values()].sort((a, b) => a.index - b.index);
    this.#pending.clear();
    for (const turn of waiting) {
      turn.status = 'unanswered';
      this.#answered.add(turn.index);
      this.#keep(turn);
      this.#emit(turn);
    }
  }

  /** The log was truncated or replaced: a new session starts from nothing. */
  reset(reason: string): void {
    this.#threads = [];
    this.#pending.clear();
    this.#answered.clear();
    this.#retained = [];
    this.#retainedBytes = 0;
    this.#elideCursor = 0;
    this.#elided = 0;
    this.#skipped = 0;
    this.#ended = false;
    this.#endedAt = undefined;
    this.#emit({ type: 'reset', reason });
  }

  /** Returns the session as it stands (retained turns and the waiting ones, by index). */
  snapshot(): SessionSnapshot {
    const waiting = [...this.#pending.values()];
    return { ...this.state(), turns: [...this.#retained, ...waiting].sort((a, b) => a.index - b.index), elided: this.#elided };
  }

  /** Returns the session's state without its turns (cheap: for an update after each record). */
  state(): Omit<SessionSnapshot, 'turns' | 'elided'> {
    const waiting = [...this.#pending.values()].sort((a, b) => a.index - b.index);
    return {
      state: this.#ended ? 'ended' : 'active',
      waiting: waiting.map((t) => ({ index: t.index, ...(t.requestedAt !== undefined ? { since: t.requestedAt } : {}) })),
      ...(this.#endedAt !== undefined ? { endedAt: this.#endedAt } : {}),
      skipped: this.#skipped,
    };
  }

  #respond(index: number, offset: number, payload: JsonBytes, at: number | undefined): void {
    const turn = this.#pending.get(index);
    if (turn === undefined) {
      this.#skip(
        offset,
        this.#answered.has(index) ? `a second response to request ${index}; the first one stands` : `response ${index} answers no request in this log`,
      );
      return;
    }
    this.#pending.delete(index);
    const latency = at !== undefined && turn.requestedAt !== undefined ? at - turn.requestedAt : undefined;
    this.#complete(turn, payload, at, latency, undefined);
  }

  #complete(turn: Turn, payload: JsonBytes | null, at: number | undefined, latencyMs: number | undefined, error: string | undefined): void {
    if (at !== undefined) turn.answeredAt = at;
    if (latencyMs !== undefined) turn.latencyMs = latencyMs;
    turn.status = 'answered';
    if (payload !== null) {
      const parsed = parseExact(payload.buf, payload.slice);
      if (parsed === undefined) {
        turn.status = 'failed';
        turn.error = 'the response is not JSON (or not UTF-8)';
      } else {
        const reading = safeReadAnswer(parsed.value, parsed.stringify);
        turn.answer = reading.answer;
        if (reading.usage) turn.usage = reading.usage;
        if (reading.shape && reading.shape !== 'chat') turn.shape = reading.shape;
        if (reading.error !== undefined) {
          turn.status = 'failed';
          turn.error = reading.error;
        }
      }
    }
    if (error) {
      turn.status = 'failed';
      turn.error = error;
    }
    this.#answered.add(turn.index);
    const thread = turn.answer ? this.#threads.find((t) => t.index === turn.index) : undefined;
    if (thread && turn.answer) thread.answer = answerSignature(turn.answer.parts);
    this.#keep(turn);
    this.#emit(turn);
  }

  #requestTurn(index: number, endpoint: string | undefined, payload: JsonBytes, at: number | undefined): Turn {
    // Every key in the order --json prints it (JSON.stringify leaves out the undefined ones).
    const turn: Turn = {
      type: 'turn',
      index,
      endpoint: endpoint ?? DEFAULT_ENDPOINT,
      shape: 'chat',
      model: undefined,
      stream: undefined,
      status: 'waiting',
      requestedAt: at,
      answeredAt: undefined,
      latencyMs: undefined,
      statusCode: undefined,
      usage: undefined,
      context: { messages: 0, kept: 0, dropped: 0 },
      system: undefined,
      tools: undefined,
      added: [],
      answer: null,
      error: undefined,
    };
    const { buf, slice } = payload;
    const members = objectMembers(buf, slice);
    if (members === null) {
      turn.error = 'the request is not a JSON object';
      return turn;
    }
    const model = members.get('model');
    const modelName = model ? parseSlice(buf, model) : undefined;
    if (typeof modelName === 'string') turn.model = modelName;
    const stream = members.get('stream');
    if (stream && parseSlice(buf, stream) === true) turn.stream = true;
    const shape: PayloadShape =
      members.has('input') || members.has('instructions') ? 'responses' : members.has('system') && turn.endpoint === '/v1/messages' ? 'messages' : 'chat';
    turn.shape = shape;

    const list = members.get('messages') ?? members.get('input');
    const elements = list === undefined ? [] : buf[list.start] === 0x22 ? [list] : (arrayElements(buf, list) ?? []);
    const hashes = elements.map((e) => hashOf(buf.subarray(e.start, e.end)));
    const systemSlice = members.get('system') ?? members.get('instructions');
    const toolsSlice = members.get('tools');
    const system = systemSlice ? hashOf(buf.subarray(systemSlice.start, systemSlice.end)) : undefined;
    const tools = toolsSlice ? hashOf(buf.subarray(toolsSlice.start, toolsSlice.end)) : undefined;

    const base = members.has('previous_response_id') ? undefined : this.#closestThread(hashes);
    const kept = base ? commonPrefix(base.hashes, hashes) : 0;
    turn.context = { messages: elements.length, kept, dropped: base ? base.hashes.length - kept : 0, ...(base ? { continues: base.index } : {}) };
    turn.added = elements.slice(kept).map((e) => this.#message(buf, e));
    // The previous answer comes back as the first new message: it was shown with that turn.
    const echo = turn.added[0];
    if (base?.answer !== undefined && echo?.role === 'assistant' && answerSignature(echo.parts) === base.answer) {
      turn.added.shift();
      turn.context.echoed = 1;
    }
    if (systemSlice && system !== base?.system) {
      const parsed = parseExact(buf, systemSlice);
      if (parsed) turn.system = safely(() => systemText(parsed.value, parsed.stringify));
    }
    if (toolsSlice && tools !== base?.tools) turn.tools = toolNames(parseSlice(buf, toolsSlice));
    this.#remember({ index, hashes, system, tools });
    return turn;
  }

  #message(buf: Buffer, element: Slice): Message {
    const parsed = parseExact(buf, element);
    if (parsed === undefined) return { role: '?', parts: [{ type: 'other', text: 'this message is not JSON (or not UTF-8)' }] };
    if (typeof parsed.value === 'string') return { role: 'user', parts: [{ type: 'text', text: parsed.value }] };
    try {
      return messageOf(parsed.value, parsed.stringify);
    } catch (err) {
      // A value nested past the stack's depth cannot be serialised again: say so, never crash the view.
      return { role: '?', parts: [{ type: 'other', text: `this message cannot be shown: ${(err as Error).message}` }] };
    }
  }

  /** The earlier request this one shares the longest run of leading messages with (the latest on a tie). */
  #closestThread(hashes: string[]): Thread | undefined {
    let best: Thread | undefined;
    let bestKept = -1;
    for (let t = this.#threads.length - 1; t >= 0; t--) {
      const thread = this.#threads[t]!;
      const kept = commonPrefix(thread.hashes, hashes);
      if (kept > bestKept) {
        best = thread;
        bestKept = kept;
      }
    }
    return bestKept > 0 ? best : undefined;
  }

  #remember(thread: Thread): void {
    // A request that extends a thread replaces it; an unrelated one starts a new thread.
    const extended = this.#threads.findIndex((t) => t.hashes.length > 0 && commonPrefix(t.hashes, thread.hashes) === t.hashes.length);
    if (extended !== -1) this.#threads.splice(extended, 1);
    this.#threads.push(thread);
    if (this.#threads.length > THREADS) this.#threads.shift();
  }

  #keep(turn: Turn): void {
    if (this.#retainBytes <= 0) return;
    this.#retained.push(turn);
    this.#retainedBytes += textSize(turn);
    while (this.#retainedBytes > this.#retainBytes && this.#elideCursor < this.#retained.length - 1) {
      const oldest = this.#retained[this.#elideCursor++]!;
      this.#retainedBytes -= textSize(oldest) - 256;
      oldest.added = [];
      if (oldest.answer) oldest.answer = { ...oldest.answer, parts: [] };
      delete oldest.system;
      oldest.elided = true;
      this.#elided++;
    }
  }

  #skip(offset: number, reason: string): void {
    this.#skipped++;
    this.#emit({ type: 'skipped', offset, reason });
  }

  #emit(event: TraceEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // One failing consumer (a closed socket) must not starve the others.
      }
    }
  }
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
