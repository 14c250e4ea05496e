/**
 * Chat Completions answer → Anthropic Messages `message` object: reasoning becomes a `thinking`
 * block (with the signature the runtime handed back in `thinking_blocks`, else an empty one),
 * text a `text` block, each tool call a `tool_use` block whose `input` is the call's arguments
 * parsed with their numbers as written.
 */
import { BadResponseError, InvalidArgumentError } from '../errors.js';
import { readChatAnswer, type ChatAnswer, type ChatToolCall, type ChatUsage } from './chat-answer.js';
import { ExactJson } from './exact-json.js';
import { isJsonObject, type JsonObject as Json } from './json-object.js';
import type { MessagesState } from './messages-request.js';
import { agentToolName } from './tool-names.js';

/**
 * Returns the Messages `message` JSON text for the runtime's chat.completion.
 * @throws BadResponseError when it is not a chat completion or a tool call's arguments are not a JSON object.
 */
export function chatToMessage(completion: string, state: MessagesState, index = 0): string {
  try {
    return buildMessage(completion, state, index);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new BadResponseError(index, `the runtime's answer cannot be translated: ${err.message}`, { cause: err });
    throw err;
  }
}

function buildMessage(completion: string, state: MessagesState, index: number): string {
  const json = new ExactJson();
  const answer = readChatAnswer(completion, json, index);
  const content: Json[] = thinkingBlocks(answer);
  if (answer.text !== '') content.push({ type: 'text', text: answer.text });
  if (answer.refusal !== '') content.push({ type: 'text', text: answer.refusal });
  for (const call of answer.toolCalls) {
    content.push({ type: 'tool_use', id: call.id, name: agentToolName(state.tools, call.name).name, input: toolInput(call, json, index) });
  }
  const stop = stopReason(answer.finishReason, answer.matchedStop, state, answer.toolCalls.length > 0, answer.refusal !== '');
  return json.write({
    id: state.messageId,
    type: 'message',
    role: 'assistant',
    model: state.model,
    content,
    stop_reason: stop.reason,
    stop_sequence: stop.sequence,
    stop_details: null,
    usage: messagesUsage(answer.usage),
  });
}

/** Returns the thinking blocks of an answer: the runtime's own `thinking_blocks` when it wrote any, else its reasoning text. */
export function thinkingBlocks(answer: Pick<ChatAnswer, 'reasoning' | 'thinkingBlocks'>): Json[] {
  const blocks: Json[] = [];
  let hasText = false;
  for (const block of answer.thinkingBlocks) {
    if (block.type === 'thinking' && typeof block.thinking === 'string') {
      blocks.push({ type: 'thinking', thinking: block.thinking, signature: typeof block.signature === 'string' ? block.signature : '' });
      hasText = true;
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
      blocks.push({ type: 'redacted_thinking', data: block.data });
    }
  }
  if (!hasText && answer.reasoning !== '') blocks.unshift({ type: 'thinking', thinking: answer.reasoning, signature: '' });
  return blocks;
}

/**
 * Returns a tool call's arguments as a `tool_use.input` object (empty arguments are `{}`).
 * @throws BadResponseError when they are not a JSON object.
 */
export function toolInput(call: ChatToolCall, json: ExactJson, index: number): Json {
  if (call.arguments.trim() === '') return {};
  let input: unknown;
  try {
    input = json.read(call.arguments);
  } catch (err) {
    throw notAnObject(call, index, err);
  }
  if (!isJsonObject(input)) throw notAnObject(call, index);
  return input;
}

function notAnObject(call: ChatToolCall, index: number, cause?: unknown): BadResponseError {
  const shown = call.arguments.length > 80 ? `${call.arguments.slice(0, 80)}…` : call.arguments;
  return new BadResponseError(
    index,
    `tool call ${call.id} (${call.name}): its arguments ${JSON.stringify(shown)} are not a JSON object, and a Messages tool_use.input must be one; write the arguments as a JSON object text`,
    { cause },
  );
}

/** Returns the Messages stop_reason (and stop_sequence) for a chat finish_reason. */
export function stopReason(
  finishReason: string | null,
  matchedStop: unknown,
  state: MessagesState,
  hasToolUse: boolean,
  refused: boolean,
): { reason: string; sequence: string | null } {
  if (finishReason === 'length') return { reason: 'max_tokens', sequence: null };
  if (hasToolUse) return { reason: 'tool_use', sequence: null };
  if (finishReason === 'content_filter' || refused) return { reason: 'refusal', sequence: null };
  if (typeof matchedStop === 'string' && state.stopSequences.includes(matchedStop)) return { reason: 'stop_sequence', sequence: matchedStop };
  return { reason: 'end_turn', sequence: null };
}

/** Returns Messages usage: Anthropic's input_tokens leaves out the cached part, which it counts on its own. */
export function messagesUsage(usage: ChatUsage): Json {
  const out: Json = {
    input_tokens: Math.max(0, usage.prompt - usage.cached),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cached,
    output_tokens: usage.completion,
  };
  if (usage.reasoning > 0) out.output_tokens_details = { thinking_tokens: usage.reasoning };
  return out;
}
