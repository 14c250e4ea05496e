/**
 * Reading the runtime's Chat Completions answer (a final chat.completion, or the deltas of its
 * chunks) into the parts the agent APIs are built from. Vendor spellings are accepted where
 * servers differ: `reasoning_content` (vLLM, DeepSeek) or `reasoning` (newer vLLM, OpenRouter),
 * and LiteLLM's `thinking_blocks`, which carry the opaque reasoning tokens (thinking `signature`,
 * `redacted_thinking` data, a Responses `encrypted_content`) back to the agent.
 */
import { randomBytes } from 'node:crypto';
import { BadResponseError } from '../errors.js';
import { isJsonObject, type JsonObject } from './json-object.js';
import { describe, type ExactJson } from './exact-json.js';

export interface ChatToolCall {
  id: string;
  /** `function`, or `custom` for an OpenAI freeform call (its input is in `arguments`). */
  type: string;
  name: string;
  arguments: string;
}

export interface ChatUsage {
  prompt: number;
  completion: number;
  total: number;
  /** prompt_tokens_details.cached_tokens */
  cached: number;
  /** completion_tokens_details.reasoning_tokens */
  reasoning: number;
}

export interface ChatAnswer {
  reasoning: string;
  /** LiteLLM's `thinking_blocks`: `{type:"thinking",thinking,signature}` or `{type:"redacted_thinking",data}`. */
  thinkingBlocks: JsonObject[];
  text: string;
  refusal: string;
  toolCalls: ChatToolCall[];
  finishReason: string | null;
  /** vLLM's `stop_reason`: the stop string that ended the answer, when one did. */
  matchedStop: unknown;
  usage: ChatUsage;
}

/** Returns a fresh id such as `msg_0123…`: 24 hex digits after the prefix. */
export function newId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

/** Returns the reasoning text of a message or delta, under either of its vendor names. */
export function reasoningOf(message: JsonObject): string | undefined {
  const value = message.reasoning_content ?? message.reasoning;
  return typeof value === 'string' ? value : undefined;
}

/** Returns message content as text: a string, or the text of an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isJsonObject)
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('');
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Returns the token counts of a chat `usage` object (zeros where it says nothing). */
export function readUsage(usage: unknown): ChatUsage {
  const u = isJsonObject(usage) ? usage : {};
  const prompt = count(u.prompt_tokens);
  const completion = count(u.completion_tokens);
  return {
    prompt,
    completion,
    total: u.total_tokens === undefined ? prompt + completion : count(u.total_tokens),
    cached: isJsonObject(u.prompt_tokens_details) ? count(u.prompt_tokens_details.cached_tokens) : 0,
    reasoning: isJsonObject(u.completion_tokens_details) ? count(u.completion_tokens_details.reasoning_tokens) : 0,
  };
}

/**
 * Reads a chat.completion's first choice through `json` (arguments written as an object keep
 * their numbers when `json` writes them).
 * @throws BadResponseError (502) when the text is not a chat completion with a message.
 */
export function readChatAnswer(completionText: string, json: ExactJson, index = 0): ChatAnswer {
  let completion: unknown;
  try {
    completion = json.read(completionText);
  } catch (err) {
    throw new BadResponseError(index, "the runtime's answer is not JSON; write a chat.completion object", { cause: err });
  }
  const choices = isJsonObject(completion) ? completion.choices : undefined;
  const choice = Array.isArray(choices) ? choices.find(isJsonObject) : undefined;
  if (!isJsonObject(completion) || choice === undefined || !isJsonObject(choice.message)) {
    throw new BadResponseError(
      index,
      `the runtime's answer is not a chat.completion with choices[0].message (got ${describe(completion)}${isJsonObject(completion) ? ` with keys ${Object.keys(completion).slice(0, 8).join(', ')}` : ''}); ` +
        'the agent speaks another API, and its answer is translated from a chat completion',
    );
  }
  const message = choice.message;
  const toolCalls: ChatToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) if (isJsonObject(call)) toolCalls.push(readToolCall(call, json, index));
  }
  if (isJsonObject(message.function_call)) {
    toolCalls.push(readToolCall({ type: 'function', function: message.function_call }, json, index));
  }
  return {
    reasoning: reasoningOf(message) ?? '',
    thinkingBlocks: Array.isArray(message.thinking_blocks) ? message.thinking_blocks.filter(isJsonObject) : [],
    text: contentText(message.content),
    refusal: typeof message.refusal === 'string' ? message.refusal : '',
    toolCalls,
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
    matchedStop: choice.stop_reason,
    usage: readUsage(completion.usage),
  };
}

function readToolCall(call: JsonObject, json: ExactJson, index: number): ChatToolCall {
  const type = typeof call.type === 'string' ? call.type : 'function';
  const body = isJsonObject(call.function) ? call.function : isJsonObject(call.custom) ? call.custom : {};
  const name = typeof body.name === 'string' ? body.name : '';
  if (name === '') throw new BadResponseError(index, "a tool call in the runtime's answer has no function name; name the tool it calls");
  const args = type === 'custom' ? body.input : body.arguments;
  let text: string;
  try {
    // Some runtimes write the arguments as a JSON value rather than its text.
    text = typeof args === 'string' ? args : args === undefined || args === null ? '' : json.write(args);
  } catch (err) {
    throw new BadResponseError(index, `tool call ${name}: its arguments cannot be translated: ${(err as Error).message}`, { cause: err });
  }
  return { id: typeof call.id === 'string' && call.id !== '' ? call.id : newId('call_'), type, name, arguments: text };
}
