/**
 * How local mode speaks one agent API: what goes into the log for an agent's request, and how
 * the runtime's response goes back to the agent, whole or as that API's event stream.
 */
import type { ParsedJson } from '../protocol/index.js';
import type { ErrorAnswer } from '../http/reply.js';
import type { ErrorBodyShape } from '../wire/error-bodies.js';

/** An agent's request as local mode writes it to the log. */
export interface LogRequest {
  /** The compact JSON payload of the request line (its UTF-8 bytes when they are the body's own). */
  payload: string | Buffer;
  /** Whether the agent asked for an event stream. */
  stream: boolean;
  /** The model the agent named, if any (GET /v1/models lists it). */
  model: string | undefined;
  /** What the answer's translation needs back (tool-name map, round-tripped fields). */
  state: unknown;
}

export interface LocalApi {
  /** The route, as written into the request line's meta (`/v1/chat/completions` is not written). */
  readonly endpoint: string;
  /** The API's error body. */
  readonly shape: ErrorBodyShape;
  /** Extra request-id header names its clients read. */
  readonly requestIdHeaders?: readonly string[];
  /**
   * Returns what goes into the log for the agent's request (`request` parsed from `text`, the body decoded).
   * @throws InvalidJsonError / InvalidArgumentError (400) for what is not a request of this API.
   */
  toLog(request: ParsedJson, text: string, body: Buffer): LogRequest;
  /**
   * Returns the agent's answer body for the runtime's response text.
   * @throws BadResponseError (502) when the response cannot become this API's answer.
   */
  answer(response: string, state: unknown): string;
  /** Returns the agent's event stream body for the runtime's response text. @throws BadResponseError. */
  answerEvents(response: string, state: unknown): string;
  /** Sent while the runtime thinks, so that the agent's idle timeout does not fire. */
  readonly heartbeat: string;
  /** An error after the stream's headers went out, in the API's own stream form (the stream ends after it). */
  streamError(answer: ErrorAnswer): string;
}
