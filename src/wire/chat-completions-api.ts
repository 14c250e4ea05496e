/**
 * The Chat Completions adapter (`POST /v1/chat/completions`): nothing to translate. It gives
 * the chat route the same face as the agent APIs, so the HTTP layer has one code path.
 */
import { InvalidJsonError } from '../errors.js';
import { parseJsonText } from '../protocol/index.js';
import type { AgentApi, AgentEventStream } from './agent-api.js';
import { completionToEventStream } from './chat-chunks.js';
import { openAiError, openAiErrorBody } from './error-bodies.js';
import { isJsonObject } from './json-object.js';
import { sseData, SSE_KEEP_ALIVE } from './sse.js';

/** A chat call needs nothing to translate its answer back. */
export type ChatCompletionsState = Record<string, never>;

const DONE = 'data: [DONE]\n\n';

/** Returns a Chat Completions stream's error event (the openai client throws it as an APIError). */
function chatStreamError(status: number, code: string, message: string): string {
  return sseData(JSON.stringify({ error: openAiError(status, code, message) }));
}

/** Passes chunks through as `data:` events, a multi-line data field split back into lines. */
class ChatEventStream implements AgentEventStream {
  ended = false;

  start(): string {
    return '';
  }

  push(chunkText: string): string {
    if (this.ended) return '';
    if (chunkText.trim() === '[DONE]') return '';
    return chunkText.includes('\n') ? chunkText.split('\n').map((line) => `data: ${line}\n`).join('') + '\n' : sseData(chunkText);
  }

  end(): string {
    if (this.ended) return '';
    this.ended = true;
    return DONE;
  }

  heartbeat(): string {
    return this.ended ? '' : SSE_KEEP_ALIVE;
  }

  fail(status: number, code: string, message: string): string {
    if (this.ended) return '';
    this.ended = true;
    return chatStreamError(status, code, message);
  }
}

export const chatCompletionsApi: AgentApi<ChatCompletionsState> = {
  name: 'chat-completions',
  endpoint: '/v1/chat/completions',
  toChat(body) {
    const parsed = parseJsonText(body);
    if (!isJsonObject(parsed.value)) {
      throw new InvalidJsonError('the request body must be a JSON object (a chat completion request), not an array or a scalar');
    }
    const model = typeof parsed.value.model === 'string' ? parsed.value.model : '';
    return { chat: parsed.compact, model, stream: parsed.value.stream === true, dropped: [], state: {} };
  },
  fromChat: (completion) => completion,
  createStream: () => new ChatEventStream(),
  finalToStream: (completion) => completionToEventStream(completion),
  errorBody: openAiErrorBody,
  streamError: chatStreamError,
  heartbeat: () => SSE_KEEP_ALIVE,
};
