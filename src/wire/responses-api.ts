/** The OpenAI Responses adapter (`POST /v1/responses`), what Codex speaks. */
import type { AgentApi, TranslationOptions } from './agent-api.js';
import { openAiErrorBody } from './error-bodies.js';
import { chatToResponse } from './responses-answer.js';
import { responsesToChat, type ResponsesState } from './responses-request.js';
import type { ResponsesStore } from './responses-store.js';
import { ResponsesEventStream, responseToEvents } from './responses-stream.js';
import { SSE_KEEP_ALIVE } from './sse.js';

/** The state of a call that failed before it had one: an empty response to carry the error. */
const NO_CALL: ResponsesState = {
  responseId: 'resp_failed',
  createdAt: 0,
  model: '',
  echo: '{}',
  tools: {},
  reasoningSummary: false,
  store: false,
  previousResponseId: null,
  input: '[]',
};

/** Returns the Responses adapter of a service, whose `previous_response_id`s are looked up in `store`. */
export function createResponsesApi(store: ResponsesStore, options: TranslationOptions = {}): AgentApi<ResponsesState> {
  return {
    name: 'responses',
    endpoint: '/v1/responses',
    toChat: (body) => responsesToChat(body, store, options),
    fromChat: (completion, state, index) => chatToResponse(completion, state, store, index),
    createStream: (state, index) => new ResponsesEventStream(state, store, index),
    finalToStream: responseToEvents,
    errorBody: openAiErrorBody,
    streamError: (status, code, message) => new ResponsesEventStream({ ...NO_CALL, createdAt: Math.floor(Date.now() / 1000) }, store).fail(status, code, message),
    heartbeat: () => SSE_KEEP_ALIVE,
  };
}
