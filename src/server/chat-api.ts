/** Chat Completions in local mode: the request goes into the log as it came, the response back as written. */
import { InvalidJsonError } from '../errors.js';
import { completionToEventStream } from '../wire/chat-chunks.js';
import { openAiErrorBody } from '../wire/error-bodies.js';
import { isJsonObject } from '../wire/json-object.js';
import type { LocalApi } from './agent-api.js';

export const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';

export const chatApi: LocalApi = {
  endpoint: CHAT_COMPLETIONS_ENDPOINT,
  shape: openAiErrorBody,
  toLog(request, text, body) {
    const value = request.value;
    if (!isJsonObject(value)) {
      throw new InvalidJsonError('the request body must be a JSON object (a chat completion request), not an array or a scalar');
    }
    // Agents mostly send compact JSON already; then the body's own bytes are the payload.
    const payload = request.compact === text ? body : request.compact;
    return { payload, stream: value.stream === true, model: typeof value.model === 'string' ? value.model : undefined, state: undefined };
  },
  answer: (response) => response,
  answerEvents: (response) => completionToEventStream(response),
  // An SSE comment: every SSE parser skips it, and it is traffic for idle timers in between.
  heartbeat: ': keep-alive\n\n',
  streamError: ({ status, code, message }) => `data: ${openAiErrorBody(status, code, message)}\n\n`,
};
