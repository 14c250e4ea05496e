/** The adapters of one service, and the route each answers. */
import type { AgentApi, TranslationOptions } from './agent-api.js';
import { chatCompletionsApi, type ChatCompletionsState } from './chat-completions-api.js';
import { messagesApi } from './messages-api.js';
import { messagesToChat, type MessagesState } from './messages-request.js';
import { createResponsesApi } from './responses-api.js';
import type { ResponsesState } from './responses-request.js';
import { ResponsesStore } from './responses-store.js';

export interface AgentApis {
  chat: AgentApi<ChatCompletionsState>;
  messages: AgentApi<MessagesState>;
  responses: AgentApi<ResponsesState>;
  /** The service's Responses, for previous_response_id. */
  responsesStore: ResponsesStore;
}

/**
 * Returns the adapters of one service; its Responses are kept in `responsesStore` (a new
 * default-bounded one if none is given), and `maxTokensCap` caps every translated request's max_tokens.
 */
export function createAgentApis(options: { responsesStore?: ResponsesStore } & TranslationOptions = {}): AgentApis {
  const responsesStore = options.responsesStore ?? new ResponsesStore();
  const translation: TranslationOptions = { maxTokensCap: options.maxTokensCap };
  const messages = options.maxTokensCap === undefined ? messagesApi : { ...messagesApi, toChat: (body: string) => messagesToChat(body, translation) };
  return { chat: chatCompletionsApi, messages, responses: createResponsesApi(responsesStore, translation), responsesStore };
}

/**
 * Returns the adapter for a POST path (its query string ignored: Claude Code posts
 * `/v1/messages?beta=true`), or undefined for a path no adapter serves.
 */
export function agentApiForPath(apis: AgentApis, path: string): AgentApi<unknown> | undefined {
  const query = path.indexOf('?');
  const route = query === -1 ? path : path.slice(0, query);
  for (const api of [apis.chat, apis.messages, apis.responses] as AgentApi<unknown>[]) if (api.endpoint === route) return api;
  return undefined;
}
