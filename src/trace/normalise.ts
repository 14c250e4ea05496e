/**
 * Chat Completions, Anthropic Messages and OpenAI Responses payloads turned into the trace's
 * messages and parts. Block and item types do not collide between the three APIs, so one
 * reader takes any of them: a translated call (Chat Completions on a Messages route) and a
 * native one render alike. Unknown pieces are shown as their JSON, never dropped.
 */
import type { Answer, Message, Part, PayloadShape, Usage } from './model.js';
import { prettyJson } from './pretty-json.js';

/** Serialises a parsed value with its numbers as they were written (see parseKeepingNumbers). */
export type Stringify = (value: unknown) => string;

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** How many characters of an unknown piece's JSON are kept. */
const OTHER_LIMIT = 2000;

function other(value: unknown, stringify: Stringify): Part {
  const text = stringify(value);
  const type = isObj(value) ? str(value.type) : undefined;
  return { type: 'other', text: text.length > OTHER_LIMIT ? `${text.slice(0, OTHER_LIMIT)}…` : text, ...(type ? { name: type } : {}) };
}

function media(block: Obj): Part {
  const type = str(block.type) ?? 'media';
  const url = isObj(block.image_url) ? str(block.image_url.url) : str(block.image_url);
  const source = isObj(block.source) ? block.source : undefined;
  const where = url ?? str(source?.url) ?? str(block.file_id) ?? str(source?.media_type);
  return { type: 'media', text: `[${type}${where && !where.startsWith('data:') ? ` ${where}` : ''}]` };
}

const MEDIA_TYPES = new Set(['image_url', 'image', 'input_image', 'input_audio', 'input_file', 'document', 'file']);

/** The parts of a content value: a string, or an array of blocks of any of the three APIs. */
export function contentParts(content: unknown, stringify: Stringify): Part[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [other(content, stringify)];
  const parts: Part[] = [];
  for (const block of content) {
    if (typeof block === 'string') {
      parts.push({ type: 'text', text: block });
      continue;
    }
    if (!isObj(block)) {
      parts.push(other(block, stringify));
      continue;
    }
    const type = str(block.type);
    if ((type === 'text' || type === 'input_text' || type === 'output_text') && typeof block.text === 'string') {
      parts.push({ type: 'text', text: block.text });
    } else if (type === 'refusal') {
      parts.push({ type: 'text', text: str(block.refusal) ?? '' });
    } else if (type === 'thinking') {
      parts.push({ type: 'reasoning', text: str(block.thinking) ?? '' });
    } else if (type === 'redacted_thinking') {
      parts.push({ type: 'reasoning', text: '[redacted]' });
    } else if (type === 'tool_use' || type === 'server_tool_use') {
      parts.push(toolCall(block.id, block.name, stringify(block.input ?? {})));
    } else if (type === 'tool_result') {
      parts.push(toolResult(block.tool_use_id, undefined, block.content, stringify, block.is_error === true));
    } else if (type !== undefined && MEDIA_TYPES.has(type)) {
      parts.push(media(block));
    } else {
      parts.push(other(block, stringify));
    }
  }
  return parts;
}

function toolCall(id: unknown, name: unknown, argumentsText: string): Part {
  return { type: 'tool_call', text: prettyJson(argumentsText), name: str(name) ?? '?', ...(str(id) ? { id: str(id)! } : {}) };
}

function toolResult(id: unknown, name: unknown, content: unknown, stringify: Stringify, error = false): Part {
  const text = typeof content === 'string' ? content : contentParts(content, stringify).map((p) => p.text).join('\n');
  return {
    type: 'tool_result',
    text,
    ...(str(name) ? { name: str(name)! } : {}),
    ...(str(id) ? { id: str(id)! } : {}),
    ...(error ? { error: true } : {}),
  };
}

function reasoningOf(message: Obj): Part[] {
  const text = str(message.reasoning_content) ?? str(message.reasoning);
  return text ? [{ type: 'reasoning', text }] : [];
}

function chatToolCalls(message: Obj): Part[] {
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const parts = calls.map((call) => {
    const fn = isObj(call) && isObj(call.function) ? call.function : {};
    const args = fn.arguments;
    return toolCall(isObj(call) ? call.id : undefined, fn.name, typeof args === 'string' ? args : JSON.stringify(args ?? {}));
  });
  if (isObj(message.function_call)) {
    const args = message.function_call.arguments;
    parts.push(toolCall(undefined, message.function_call.name, typeof args === 'string' ? args : ''));
  }
  return parts;
}

/** One element of a request's `messages` (Chat Completions or Messages) or `input` (Responses). */
export function messageOf(item: unknown, stringify: Stringify): Message {
  if (!isObj(item)) return { role: '?', parts: [other(item, stringify)] };
  const role = str(item.role);
  const type = str(item.type);
  if (role !== undefined && (type === undefined || type === 'message')) {
    if (role === 'tool' || role === 'function') {
      return { role: 'tool', parts: [toolResult(item.tool_call_id, item.name, item.content, stringify)] };
    }
    return { role, parts: [...reasoningOf(item), ...contentParts(item.content, stringify), ...chatToolCalls(item)] };
  }
  return { role: responsesItemRole(type), parts: responsesItemParts(item, stringify) };
}

function responsesItemRole(type: string | undefined): string {
  return type !== undefined && type.endsWith('_output') ? 'tool' : 'assistant';
}

function responsesItemParts(item: Obj, stringify: Stringify): Part[] {
  switch (item.type) {
    case 'function_call':
      return [toolCall(item.call_id, item.name, typeof item.arguments === 'string' ? item.arguments : stringify(item.arguments ?? {}))];
    case 'custom_tool_call':
      return [toolCall(item.call_id, item.name, str(item.input) ?? stringify(item.input))];
    case 'local_shell_call':
      return [toolCall(item.call_id, 'local_shell', stringify(item.action ?? {}))];
    case 'function_call_output':
    case 'custom_tool_call_output':
    case 'local_shell_call_output':
      return [toolResult(item.call_id, undefined, item.output, stringify)];
    case 'reasoning': {
      const summary = Array.isArray(item.summary) ? item.summary.map((s) => (isObj(s) ? str(s.text) ?? '' : '')).join('\n') : '';
      const content = Array.isArray(item.content) ? contentParts(item.content, stringify).map((p) => p.text).join('\n') : '';
      const text = summary || content || (item.encrypted_content ? '[encrypted]' : '');
      return [{ type: 'reasoning', text }];
    }
    default:
      return [other(item, stringify)];
  }
}

/** A top-level `system` (Messages) or `instructions` (Responses) value as text. */
export function systemText(value: unknown, stringify: Stringify): string {
  return contentParts(value, stringify)
    .map((p) => p.text)
    .join('\n');
}

/** The names of a request's tools (any of the three APIs); a tool without a name by its type. */
export function toolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools.map((tool) => {
    if (!isObj(tool)) return '?';
    const fn = isObj(tool.function) ? tool.function : undefined;
    return str(fn?.name) ?? str(tool.name) ?? str(tool.type) ?? '?';
  });
}

/** What an answer payload says: its parts, usage, shape, or the error it carries. */
export interface AnswerReading {
  answer: Answer | null;
  usage?: Usage;
  shape?: PayloadShape;
  error?: string;
}

/** Reads a response payload of any of the three APIs (or an error body). */
export function readAnswer(value: unknown, stringify: Stringify): AnswerReading {
  if (!isObj(value)) return { answer: { parts: [other(value, stringify)] } };
  if (isObj(value.error) || (value.type === 'error' && value.error !== undefined)) {
    const error = isObj(value.error) ? (str(value.error.message) ?? stringify(value.error)) : stringify(value.error);
    return { answer: null, error };
  }
  if (Array.isArray(value.choices)) {
    const choice = value.choices.find(isObj);
    const message = choice && isObj(choice.message) ? choice.message : choice && isObj(choice.delta) ? choice.delta : {};
    const parts = [...reasoningOf(message), ...contentParts(message.content, stringify), ...chatToolCalls(message)];
    if (typeof message.refusal === 'string') parts.push({ type: 'text', text: message.refusal });
    const finish = choice ? str(choice.finish_reason) : undefined;
    return { shape: 'chat', answer: { parts, ...(finish ? { finish } : {}) }, ...usageOf(value.usage, 'chat') };
  }
  if (Array.isArray(value.output)) {
    const parts = value.output.flatMap((item) => messageOf(item, stringify).parts);
    const finish = str(value.status);
    return { shape: 'responses', answer: { parts, ...(finish ? { finish } : {}) }, ...usageOf(value.usage, 'responses') };
  }
  if (Array.isArray(value.content)) {
    const finish = str(value.stop_reason);
    return { shape: 'messages', answer: { parts: contentParts(value.content, stringify), ...(finish ? { finish } : {}) }, ...usageOf(value.usage, 'messages') };
  }
  return { answer: { parts: [other(value, stringify)] } };
}

function usageOf(value: unknown, shape: PayloadShape): { usage?: Usage } {
  if (!isObj(value)) return {};
  const details = (key: string): Obj => (isObj(value[key]) ? (value[key] as Obj) : {});
  const usage: Usage =
    shape === 'chat'
      ? {
          input: num(value.prompt_tokens),
          output: num(value.completion_tokens),
          total: num(value.total_tokens),
          cached: num(details('prompt_tokens_details').cached_tokens),
          reasoning: num(details('completion_tokens_details').reasoning_tokens),
        }
      : {
          input: num(value.input_tokens),
          output: num(value.output_tokens),
          total: num(value.total_tokens),
          cached: num(value.cache_read_input_tokens) ?? num(details('input_tokens_details').cached_tokens),
          reasoning: num(details('output_tokens_details').reasoning_tokens),
        };
  for (const key of Object.keys(usage) as (keyof Usage)[]) if (usage[key] === undefined) delete usage[key];
  return Object.keys(usage).length > 0 ? { usage } : {};
}
