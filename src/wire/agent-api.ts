/**
 * One interface for every API an agent may speak (docs/agent-apis.md). The runtime always speaks
 * Chat Completions: an adapter turns the agent's request into a Chat Completions request, and
 * the runtime's answer (a chat.completion, or the chat.completion.chunk events of an upstream)
 * back into the agent's API.
 *
 * Local mode and proxy mode share one event generator per API: proxy mode pushes the upstream's
 * chunks as they come; local mode pushes the chunks `chatCompletionChunks` makes of the final
 * completion (see `completionToAgentStream`).
 */
import type { ModelServiceError } from '../errors.js';
import { chatCompletionChunks } from './chat-chunks.js';

export type AgentEndpoint = '/v1/chat/completions' | '/v1/messages' | '/v1/responses';

/** An agent's request as the runtime sees it. */
export interface ChatTranslation<State> {
  /** The Chat Completions request, compact JSON text, numbers as the agent wrote them. */
  chat: string;
  /** The model the agent asked for ('' when it named none). */
  model: string;
  /** Whether the agent asked for an event stream. */
  stream: boolean;
  /**
   * What Chat Completions cannot express and was left out, as `kind:name` entries
   * (`tool:web_search`, `field:thinking`, `block:server_tool_use`); for the service log and the
   * trajectory, never a reason to refuse the call.
   */
  dropped: string[];
  /** What translating the answer back needs (plain data: it can be logged or kept across retries). */
  state: State;
}

/** What a service sets for every translation it makes. */
export interface TranslationOptions {
  /** The largest `max_tokens` the Chat Completions request asks for (the agent's own value when smaller). */
  maxTokensCap?: number;
}

/** Returns `maxTokens` capped at `options.maxTokensCap`. */
export function cappedMaxTokens(maxTokens: number, options: TranslationOptions): number {
  return options.maxTokensCap === undefined ? maxTokens : Math.min(maxTokens, options.maxTokensCap);
}

/** Turns the runtime's chat.completion.chunk events into one agent API's event stream, incrementally. */
export interface AgentEventStream {
  /**
   * Returns the events that open the stream, to send with the headers (Responses:
   * response.created and response.in_progress; '' for Messages and Chat Completions, which open
   * with their first chunk); sent at most once.
   */
  start(): string;
  /** Returns the events one chunk (the JSON text of an SSE `data:` field, `[DONE]` included) becomes. */
  push(chunkText: string): string;
  /** Returns the events that close the stream (an error event when the answer cannot be the agent's). */
  end(): string;
  /** Returns a keep-alive these clients count as activity (an SSE comment, Messages' `ping`, a repeated `response.in_progress`). */
  heartbeat(): string;
  /** Returns the API's in-stream error for a failure after the headers went out, and ends the stream. */
  fail(status: number, code: string, message: string): string;
  /** True once `end` or `fail` ran: nothing more is produced. */
  readonly ended: boolean;
}

/** Returns `events`' in-stream error for `err`, with the status the error table gives its code. */
export function failWith(events: AgentEventStream, err: ModelServiceError): string {
  return events.fail(err.httpStatus, err.code, err.message);
}

export interface AgentApi<State> {
  /** `chat-completions`, `messages` or `responses`. */
  readonly name: string;
  readonly endpoint: AgentEndpoint;
  /**
   * Translates the agent's request body.
   * @throws InvalidJsonError, InvalidArgumentError (400) when it is not a valid request of this API;
   *   UnknownResponseError (400) for a `previous_response_id` the service does not keep.
   */
  toChat(body: string): ChatTranslation<State>;
  /**
   * Returns the agent API's final object for the runtime's chat.completion text.
   * @param index the request's log index, named by the error (0 when there is none, as in proxy mode).
   * @throws BadResponseError (502) when the answer cannot become this API's object.
   */
  fromChat(completion: string, state: State, index?: number): string;
  /** Returns a translator of chat chunks into this API's event stream for one call. */
  createStream(state: State, index?: number): AgentEventStream;
  /**
   * Native mode: returns the event stream of a final object the runtime wrote in the agent's
   * own API (the service streams it when the agent asked to stream).
   * @throws BadResponseError (502) when the text is not such an object.
   */
  finalToStream(agentFinal: string, index?: number): string;
  /** Returns the JSON text of an error body in this API's shape. */
  errorBody(status: number, code: string, message: string): string;
  /** Returns an in-stream error for a call that has no translator (prefer `AgentEventStream.fail`). */
  streamError(status: number, code: string, message: string): string;
  /** Returns a keep-alive for a call that has no translator (prefer `AgentEventStream.heartbeat`). */
  heartbeat(): string;
}

/**
 * Local mode's stream body once the runtime has answered: the completion cut into the chunks an
 * OpenAI stream has, each pushed through `stream`, then its end.
 * @throws BadResponseError (502) when the answer is not a chat completion.
 */
export function completionToAgentStream(stream: AgentEventStream, completion: string, index = 0): string {
  const chunks = chatCompletionChunks(completion, index);
  // The usage chunk (last, as OpenAI streams it) goes first too: the whole answer is known,
  // and Messages' message_start can then carry the input token count.
  const usage = chunks.length > 2 ? chunks.at(-1)! : undefined;
  let out = usage === undefined ? '' : stream.push(usage);
  for (const chunk of chunks) out += stream.push(chunk);
  return out + stream.end();
}
