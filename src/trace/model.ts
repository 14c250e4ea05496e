/**
 * The trace's data model: what `--json` prints (one object per line), what the HTML page and
 * the live page render, and what `GET /session` and its events carry. Plain JSON values only.
 */

/** The wire shape a payload has; independent of the route it came in on (translated calls are `chat`). */
export type PayloadShape = 'chat' | 'messages' | 'responses';

/** One piece of a message or an answer; every kind carries its text, so renderers and search treat them alike. */
export interface Part {
  type: 'text' | 'reasoning' | 'tool_call' | 'tool_result' | 'media' | 'other';
  /** Text; for a tool call, its arguments indented (numbers as written). */
  text: string;
  /** Tool name (tool calls, and tool results when the payload names it). */
  name?: string;
  /** Tool call id (calls and results). */
  id?: string;
  /** A tool result marked as an error. */
  error?: boolean;
}

/** One message of the conversation, as the request carried it. */
export interface Message {
  role: string;
  parts: Part[];
}

/** Token counts as `usage` reports them (absent when it does not). */
export interface Usage {
  input?: number;
  output?: number;
  total?: number;
  cached?: number;
  reasoning?: number;
}

/** The model's answer to one call. */
export interface Answer {
  parts: Part[];
  /** finish_reason / stop_reason / status. */
  finish?: string;
}

export type TurnStatus = 'waiting' | 'answered' | 'failed' | 'unanswered';

/** One call: what its request added to the conversation, and the answer. */
export interface Turn {
  type: 'turn';
  /** The request's index in the log (1, 2, 3…), or its line number in a JSONL file. */
  index: number;
  /** The route the agent called (`/v1/chat/completions` unless the meta or record says otherwise). */
  endpoint: string;
  shape: PayloadShape;
  model?: string;
  stream?: boolean;
  /** Epoch ms of the request line, and of the response line. */
  requestedAt?: number;
  answeredAt?: number;
  /** How long the answer took: the runtime in local mode (response − request timestamp), the upstream in a proxy recording. */
  latencyMs?: number;
  /**
   * Messages in this request; how many lead the earlier request it `continues` (the one
   * sharing the longest run of leading messages); how many of that one's it no longer has;
   * `echoed: 1` when the next message is that request's answer, left out of `added`.
   */
  context: { messages: number; kept: number; dropped: number; continues?: number; echoed?: number };
  /** The top-level system prompt or instructions, when new or changed (Messages, Responses). */
  system?: string;
  /** Tool names, when the tool list is new or changed. */
  tools?: string[];
  /** The messages this request adds to the previous one. */
  added: Message[];
  answer: Answer | null;
  usage?: Usage;
  status: TurnStatus;
  /** What went wrong (a failed proxy call, an answer that is not JSON, an error object). */
  error?: string;
  /** HTTP status the agent got (proxy recordings). */
  statusCode?: number;
  /** The live view dropped this turn's messages to stay within its memory bound. */
  elided?: boolean;
}

/** The session ended (SESSION_END in the log); `at` is when it was read, in epoch ms, when the source says. */
export interface SessionEnd {
  type: 'session_end';
  at?: number;
}

/** A line that could not be used, with why (never fatal). */
export interface Skipped {
  type: 'skipped';
  /** Byte offset of the line in the file. */
  offset: number;
  reason: string;
}

/** What a session view reports, in file order. `request` is a turn still waiting for its answer. */
export type TraceEvent = { type: 'request'; turn: Turn } | Turn | SessionEnd | Skipped | { type: 'reset'; reason: string };
