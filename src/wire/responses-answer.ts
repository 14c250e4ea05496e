/**
 * Chat Completions answer → OpenAI Responses `response` object: reasoning becomes a `reasoning`
 * item (a summary when the agent asked for one, else `reasoning_text` content), text a `message`
 * item, each tool call a `function_call` (with its `namespace` when it was flattened) or, for a
 * freeform tool, a `custom_tool_call`. Shared by the final object and the event stream.
 */
import { readChatAnswer, newId, type ChatToolCall, type ChatUsage } from './chat-answer.js';
import { ExactJson } from './exact-json.js';
import { isJsonObject, type JsonObject as Json } from './json-object.js';
import type { ResponsesState } from './responses-request.js';
import type { ResponsesStore } from './responses-store.js';
import { agentToolName } from './tool-names.js';

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** Returns a `reasoning` output item. */
export function reasoningItem(id: string, text: string, encrypted: string | undefined, state: ResponsesState): Json {
  const item: Json = { id, type: 'reasoning', summary: state.reasoningSummary && text !== '' ? [{ type: 'summary_text', text }] : [] };
  if (!state.reasoningSummary) item.content = text === '' ? [] : [{ type: 'reasoning_text', text }];
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
}

/** Returns an `output_text` content part. */
export function outputText(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** Returns an assistant `message` output item. */
export function messageItem(id: string, content: Json[], status: ResponseStatus): Json {
  return { id, type: 'message', status, role: 'assistant', content };
}

/** Returns the output item of a tool call: a `custom_tool_call` for a freeform tool, else a `function_call`. */
export function callItem(id: string, call: ChatToolCall, state: ResponsesState, status: ResponseStatus): Json {
  const tool = agentToolName(state.tools, call.name);
  const item: Json =
    tool.custom || call.type === 'custom'
      ? { id, type: 'custom_tool_call', status, call_id: call.id, name: tool.name, input: customInput(call) }
      : { id, type: 'function_call', status, arguments: call.arguments, call_id: call.id, name: tool.name };
  if (tool.namespace !== undefined) item.namespace = tool.namespace;
  return item;
}

/** A freeform tool's input: the `input` string the runtime wrote as the function's argument, else its raw arguments. */
function customInput(call: ChatToolCall): string {
  if (call.type === 'custom') return call.arguments;
  try {
    const args: unknown = JSON.parse(call.arguments);
    if (isJsonObject(args) && typeof args.input === 'string') return args.input;
  } catch {
    // Not JSON: the runtime wrote the input itself.
  }
  return call.arguments;
}

/** Returns Responses usage for chat usage. */
export function responsesUsage(usage: ChatUsage): Json {
  return {
    input_tokens: usage.prompt,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: usage.completion,
    output_tokens_details: { reasoning_tokens: usage.reasoning },
    total_tokens: usage.total,
  };
}

/** Returns the status (and incomplete_details) a chat finish_reason gives a response. */
export function finishStatus(finishReason: string | null): { status: ResponseStatus; incomplete_details: Json | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** Returns the JSON text of a response object: what it says now, plus what it repeats of the request. */
export function responseText(
  state: ResponsesState,
  status: ResponseStatus,
  output: Json[],
  usage: Json | null,
  extra: { error?: Json | null; incomplete_details?: Json | null } = {},
): string {
  const head = JSON.stringify({
    id: state.responseId,
    object: 'response',
    created_at: state.createdAt,
    status,
    background: false,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete_details ?? null,
    model: state.model,
    output,
    usage,
  });
  return state.echo === '{}' ? head : `${head.slice(0, -1)},${state.echo.slice(1)}`;
}

/** Keeps a finished response for later previous_response_id calls, unless the agent said store: false. */
export function remember(store: ResponsesStore, state: ResponsesState, output: Json[]): void {
  if (state.store) store.put(state.responseId, state.previousResponseId, state.input, JSON.stringify(output));
}

/**
 * Returns the Responses `response` JSON text for the runtime's chat.completion, and keeps it in `store`.
 * @throws BadResponseError when it is not a chat completion.
 */
export function chatToResponse(completion: string, state: ResponsesState, store: ResponsesStore, index = 0): string {
  const answer = readChatAnswer(completion, new ExactJson(), index);
  const output: Json[] = [];
  const encrypted = answer.thinkingBlocks.find((b) => typeof b.signature === 'string' && b.signature !== '')?.signature as string | undefined;
  if (answer.reasoning !== '' || encrypted !== undefined) output.push(reasoningItem(newId('rs_'), answer.reasoning, encrypted, state));
  const content: Json[] = [];
  if (answer.text !== '') content.push(outputText(answer.text));
  if (answer.refusal !== '') content.push({ type: 'refusal', refusal: answer.refusal });
  if (content.length > 0) output.push(messageItem(newId('msg_'), content, 'completed'));
  for (const call of answer.toolCalls) output.push(callItem(newId(call.type === 'custom' ? 'ctc_' : 'fc_'), call, state, 'completed'));
  const { status, incomplete_details } = finishStatus(answer.finishReason);
  remember(store, state, output);
  return responseText(state, status, output, responsesUsage(answer.usage), { incomplete_details });
}
