/** The Anthropic Messages adapter (`POST /v1/messages`), what Claude Code speaks. */
import type { AgentApi } from './agent-api.js';
import { anthropicErrorBody } from './error-bodies.js';
import { chatToMessage } from './messages-answer.js';
import { messagesToChat, type MessagesState } from './messages-request.js';
import { MESSAGES_PING, MessagesEventStream, messageToEvents } from './messages-stream.js';
import { sseEvent } from './sse.js';

export const messagesApi: AgentApi<MessagesState> = {
  name: 'messages',
  endpoint: '/v1/messages',
  toChat: messagesToChat,
  fromChat: chatToMessage,
  createStream: (state, index) => new MessagesEventStream(state, index),
  finalToStream: messageToEvents,
  errorBody: anthropicErrorBody,
  streamError: (status, code, message) => sseEvent('error', anthropicErrorBody(status, code, message)),
  heartbeat: () => MESSAGES_PING,
};
