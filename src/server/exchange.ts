/**
 * What local mode writes into the log for an agent's request, and how the runtime's response
 * goes back, in one of two modes (docs/agent-apis.md): translated (the default: the runtime sees
 * and answers Chat Completions whatever the agent speaks) or native (the runtime sees the
 * agent's own request and answers with that API's final object).
 */
import { InvalidJsonError } from '../errors.js';
import { escapeMarkers, parseJsonText } from '../protocol/index.js';
import type { AgentApi, AgentEventStream } from '../wire/agent-api.js';
import { completionToAgentStream } from '../wire/agent-api.js';
import { isJsonObject } from '../wire/json-object.js';

export type AgentApiMode = 'translated' | 'native';

/** One agent request as the log holds it, and what its answer needs. */
export interface Exchange {
  readonly api: AgentApi<unknown>;
  readonly native: boolean;
  /** The request line's payload: compact JSON text, or its UTF-8 bytes when they are the body's own. */
  readonly payload: string | Buffer;
  readonly stream: boolean;
  readonly model: string;
  /** What Chat Completions could not carry (translated mode), for the log and the trajectory. */
  readonly dropped: readonly string[];
  readonly state: unknown;
  /** The agent's own request, compact, when the log holds a translation of it. */
  readonly agentRequest: string | undefined;
}

/**
 * Returns the exchange of an agent's request body (`text` is the body decoded, `body` its bytes).
 * @throws InvalidJsonError / InvalidArgumentError (400) for what is not a request of this API;
 *   UnknownResponseError for a `previous_response_id` the service does not keep.
 */
export function openExchange(api: AgentApi<unknown>, mode: AgentApiMode, text: string, body: Buffer): Exchange {
  const native = mode === 'native' && api.endpoint !== '/v1/chat/completions';
  if (native) {
    const parsed = parseJsonText(text);
    if (!isJsonObject(parsed.value)) throw new InvalidJsonError(`the request body must be a JSON object (a ${api.name} request)`);
    const { model, stream } = parsed.value;
    return {
      api,
      native,
      payload: parsed.compact === text ? body : parsed.compact,
      stream: stream === true,
      model: typeof model === 'string' ? model : '',
      dropped: [],
      state: undefined,
      agentRequest: undefined,
    };
  }
  const translation = api.toChat(text);
  const untranslated = api.endpoint === '/v1/chat/completions';
  return {
    api,
    native,
    // Agents mostly send compact JSON already; then the body's own bytes are the payload. A
    // translation is built by JSON.stringify, so its marker strings are escaped here.
    payload: !untranslated ? escapeMarkers(translation.chat) : translation.chat === text ? body : translation.chat,
    stream: translation.stream,
    model: translation.model,
    dropped: translation.dropped,
    state: translation.state,
    agentRequest: untranslated ? undefined : parseJsonText(text).compact,
  };
}

/**
 * Returns the agent's whole answer for the runtime's response text.
 * @throws BadResponseError (502) when the response cannot become the agent's answer.
 */
export function agentAnswer(exchange: Exchange, response: string, index: number): string {
  // Native mode: the runtime wrote the API's own final object, and a plain call gets it as written.
  return exchange.native ? response : exchange.api.fromChat(response, exchange.state, index);
}

/** The events of one streamed call: opened with the headers, kept alive, then the answer or an error. */
export interface CallStream {
  start(): string;
  heartbeat(): string;
  /** @throws BadResponseError when the response cannot become the agent's events. */
  answer(response: string): string;
  fail(status: number, code: string, message: string): string;
}

/** Returns the event stream of a streamed call on `exchange`'s turn `index`. */
export function openCallStream(exchange: Exchange, index: number): CallStream {
  const { api } = exchange;
  // Chat Completions needs no translation: its reply becomes chunks, or goes as one event when it cannot.
  if (exchange.native || api.endpoint === '/v1/chat/completions') {
    return {
      start: () => '',
      heartbeat: () => api.heartbeat(),
      answer: (response) => api.finalToStream(response, index),
      fail: (status, code, message) => api.streamError(status, code, message),
    };
  }
  const events: AgentEventStream = api.createStream(exchange.state, index);
  return {
    start: () => events.start(),
    heartbeat: () => events.heartbeat(),
    answer: (response) => completionToAgentStream(events, response, index),
    fail: (status, code, message) => events.fail(status, code, message),
  };
}
