/**
 * Anthropic Messages request → Chat Completions request. The runtime gets what a chat template
 * renders: text joined into strings, `thinking` as `reasoning_content`, `tool_use` as
 * `tool_calls` (ids kept), each `tool_result` as a `tool` message. What only the agent's API
 * has rides along under the agent's own key names, which chat templates and servers ignore:
 * `cache_control` on the message or tool, `is_error` on a tool message, `thinking_blocks`
 * (LiteLLM's key) for thinking signatures and redacted thinking.
 */
import { InvalidArgumentError } from '../errors.js';
import { cappedMaxTokens, type ChatTranslation, type TranslationOptions } from './agent-api.js';
import { newId } from './chat-answer.js';
import { describe, ExactJson } from './exact-json.js';
import { isJsonObject, type JsonObject as Json } from './json-object.js';
import { ToolNames, type AgentToolName } from './tool-names.js';

/** What translating a Messages answer back needs. */
export interface MessagesState {
  /** The model the agent asked for: answers name it, as Anthropic's do. */
  model: string;
  messageId: string;
  /** Chat tool name → the agent's tool, where they differ. */
  tools: Record<string, AgentToolName>;
  /** The agent's `stop_sequences`, to tell `stop_sequence` from `end_turn`. */
  stopSequences: string[];
}

/** Request fields translated below; any other is named in `dropped` unless it is in IGNORED. */
const TRANSLATED = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'metadata',
  'thinking',
  'output_config',
  'cache_control',
]);
/** Fields about Anthropic's own service (tiers, regions, speed, diagnostics) that say nothing to a model. */
const IGNORED = new Set(['service_tier', 'inference_geo', 'speed', 'diagnostics', 'user_profile_id']);

/** Text parts join with a line break, as vLLM joins a message's text parts before templating. */
const PART_SEPARATOR = '\n';

/**
 * Translates a Messages request body; `options.maxTokensCap` caps its max_tokens.
 * @throws InvalidJsonError when it is not JSON; InvalidArgumentError when it is not a Messages request.
 */
export function messagesToChat(body: string, options: TranslationOptions = {}): ChatTranslation<MessagesState> {
  const json = new ExactJson();
  const req = json.readObject(body, 'a Messages request');
  if (!Array.isArray(req.messages)) throw new InvalidArgumentError(`messages: must be an array of {role, content} messages, not ${describe(req.messages)}`);
  const dropped = new Set<string>();
  for (const key of Object.keys(req)) if (!TRANSLATED.has(key) && !IGNORED.has(key)) dropped.add(`field:${key}`);
  const names = new ToolNames();
  const model = typeof req.model === 'string' ? req.model : '';
  const chat: Json = { model };

  // Tools first: the history's tool_use blocks must get the names the tool list gets.
  const tools = req.tools === undefined ? [] : translateTools(req.tools, names, dropped);
  const messages: Json[] = [];
  if (req.system !== undefined) messages.push(systemMessage(req.system, dropped));
  req.messages.forEach((message, i) => translateMessage(message, i, names, dropped, messages, json));
  chat.messages = messages;
  if (tools.length > 0) {
    chat.tools = tools;
    if (req.tool_choice !== undefined) Object.assign(chat, toolChoice(req.tool_choice, names));
  }
  if (typeof req.max_tokens === 'number') chat.max_tokens = cappedMaxTokens(req.max_tokens, options);
  for (const key of ['temperature', 'top_p', 'top_k'] as const) if (req[key] !== undefined) chat[key] = req[key];
  const stopSequences = Array.isArray(req.stop_sequences) ? req.stop_sequences.filter((s): s is string => typeof s === 'string') : [];
  if (stopSequences.length > 0) chat.stop = stopSequences;
  if (isJsonObject(req.metadata) && typeof req.metadata.user_id === 'string') chat.user = req.metadata.user_id;
  if (isJsonObject(req.thinking) && req.thinking.type !== 'disabled') dropped.add('field:thinking');
  if (isJsonObject(req.output_config)) translateOutputConfig(req.output_config, chat, dropped);
  if (req.cache_control !== undefined) chat.cache_control = req.cache_control;
  const stream = req.stream === true;
  if (stream) {
    chat.stream = true;
    // Usage arrives only when asked for, and the agent's closing event carries it.
    chat.stream_options = { include_usage: true };
  }
  return {
    chat: json.write(chat),
    model,
    stream,
    dropped: [...dropped],
    state: { model, messageId: newId('msg_'), tools: names.renamed, stopSequences },
  };
}

function translateTools(tools: unknown, names: ToolNames, dropped: Set<string>): Json[] {
  if (!Array.isArray(tools)) throw new InvalidArgumentError(`tools: must be an array of tool definitions, not ${describe(tools)}`);
  const out: Json[] = [];
  tools.forEach((tool, i) => {
    if (!isJsonObject(tool) || typeof tool.name !== 'string' || tool.name === '') {
      throw new InvalidArgumentError(`tools[${i}]: must be an object with a non-empty "name"`);
    }
    // A client tool has no type (or "custom"); typed tools (web_search_…, bash_…, text_editor_…)
    // have schemas only Anthropic knows.
    if (tool.type !== undefined && tool.type !== 'custom') {
      dropped.add(`tool:${tool.name}`);
      return;
    }
    const fn: Json = { name: names.chatName({ name: tool.name }) };
    if (typeof tool.description === 'string') fn.description = tool.description;
    fn.parameters = isJsonObject(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} };
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
    const chatTool: Json = { type: 'function', function: fn };
    if (tool.cache_control !== undefined) chatTool.cache_control = tool.cache_control;
    out.push(chatTool);
  });
  return out;
}

function toolChoice(choice: unknown, names: ToolNames): Json {
  if (!isJsonObject(choice)) throw new InvalidArgumentError(`tool_choice: must be an object such as {"type":"auto"}, not ${describe(choice)}`);
  const out: Json = {};
  if (choice.type === 'auto') out.tool_choice = 'auto';
  else if (choice.type === 'any') out.tool_choice = 'required';
  else if (choice.type === 'none') out.tool_choice = 'none';
  else if (choice.type === 'tool' && typeof choice.name === 'string') {
    out.tool_choice = { type: 'function', function: { name: names.chatName({ name: choice.name }) } };
  } else throw new InvalidArgumentError('tool_choice: type must be "auto", "any", "none", or "tool" with a "name"');
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  return out;
}

function translateOutputConfig(config: Json, chat: Json, dropped: Set<string>): void {
  for (const [key, value] of Object.entries(config)) {
    if (key === 'effort' && typeof value === 'string') chat.reasoning_effort = value;
    else if (key === 'format' && isJsonObject(value) && value.type === 'json_schema' && isJsonObject(value.schema)) {
      chat.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: value.schema } };
    } else dropped.add(`field:output_config.${key}`);
  }
}

function systemMessage(system: unknown, dropped: Set<string>): Json {
  if (typeof system === 'string') return { role: 'system', content: system };
  if (!Array.isArray(system)) throw new InvalidArgumentError(`system: must be a string or an array of text blocks, not ${describe(system)}`);
  const texts: string[] = [];
  const message: Json = { role: 'system', content: '' };
  system.forEach((block, i) => {
    const b = checkedBlock(block, `system[${i}]`);
    if (b.type === 'text') texts.push(textOf(b, `system[${i}]`));
    else dropped.add(`block:${b.type}`);
    if (b.cache_control !== undefined) message.cache_control = b.cache_control;
  });
  message.content = texts.join(PART_SEPARATOR);
  return message;
}

type Block = Json & { type: string };

function checkedBlock(block: unknown, where: string): Block {
  if (!isJsonObject(block) || typeof block.type !== 'string') throw new InvalidArgumentError(`${where}: must be a content block with a string "type"`);
  return block as Block;
}

function textOf(block: Json, where: string): string {
  if (typeof block.text !== 'string') throw new InvalidArgumentError(`${where}.text: must be a string`);
  return block.text;
}

function translateMessage(message: unknown, i: number, names: ToolNames, dropped: Set<string>, out: Json[], json: ExactJson): void {
  const where = `messages[${i}]`;
  if (!isJsonObject(message)) throw new InvalidArgumentError(`${where}: must be an object with "role" and "content"`);
  const { role, content } = message;
  // Claude Code's system message carries its own output_config (a per-turn effort); chat has no per-message settings.
  for (const key of Object.keys(message)) if (key !== 'role' && key !== 'content') dropped.add(`field:messages[].${key}`);
  // A system message inside the conversation (Claude Code 2.x sends one per turn) is a chat system message.
  if (role === 'system') {
    out.push(systemMessage(content, dropped));
    return;
  }
  if (role !== 'user' && role !== 'assistant') throw new InvalidArgumentError(`${where}.role: must be "user", "assistant" or "system", not ${JSON.stringify(role)}`);
  if (typeof content === 'string') {
    out.push({ role, content });
    return;
  }
  if (!Array.isArray(content)) throw new InvalidArgumentError(`${where}.content: must be a string or an array of content blocks`);
  const blocks = content.map((block, k) => checkedBlock(block, `${where}.content[${k}]`));
  if (role === 'assistant') out.push(assistantMessage(blocks, where, names, dropped, json));
  else userMessages(blocks, where, dropped, out);
}

function assistantMessage(blocks: Block[], where: string, names: ToolNames, dropped: Set<string>, json: ExactJson): Json {
  const texts: string[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: Json[] = [];
  const toolCalls: Json[] = [];
  let cacheControl: unknown;
  blocks.forEach((block, k) => {
    const at = `${where}.content[${k}]`;
    if (block.cache_control !== undefined) cacheControl = block.cache_control;
    switch (block.type) {
      case 'text':
        texts.push(textOf(block, at));
        break;
      case 'thinking':
        if (typeof block.thinking !== 'string') throw new InvalidArgumentError(`${at}.thinking: must be a string`);
        reasoning.push(block.thinking);
        // Only a signature the runtime could hand back is worth carrying; ours are empty.
        if (typeof block.signature === 'string' && block.signature !== '') {
          thinkingBlocks.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
        }
        break;
      case 'redacted_thinking':
        thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
        break;
      case 'tool_use': {
        if (typeof block.id !== 'string' || typeof block.name !== 'string') throw new InvalidArgumentError(`${at}: a tool_use needs a string "id" and "name"`);
        const input = block.input ?? {};
        if (!isJsonObject(input)) throw new InvalidArgumentError(`${at}.input: must be a JSON object`);
        toolCalls.push({ id: block.id, type: 'function', function: { name: names.chatName({ name: block.name }), arguments: json.write(input) } });
        break;
      }
      default:
        dropped.add(`block:${block.type}`);
    }
  });
  const message: Json = { role: 'assistant', content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join(PART_SEPARATOR) };
  if (reasoning.length > 0) message.reasoning_content = reasoning.join(PART_SEPARATOR);
  if (thinkingBlocks.length > 0) message.thinking_blocks = thinkingBlocks;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (cacheControl !== undefined) message.cache_control = cacheControl;
  return message;
}

/**
 * A user turn becomes its tool messages first (Chat Completions wants them right after the
 * assistant's tool calls), then one user message with the rest. Images inside tool results go
 * into that user message: Chat Completions' tool messages carry text only.
 */
function userMessages(blocks: Block[], where: string, dropped: Set<string>, out: Json[]): void {
  const parts: Json[] = [];
  const toolImages: Json[] = [];
  let cacheControl: unknown;
  blocks.forEach((block, k) => {
    const at = `${where}.content[${k}]`;
    if (block.type === 'tool_result') {
      out.push(toolMessage(block, at, dropped, toolImages));
      return;
    }
    if (block.cache_control !== undefined) cacheControl = block.cache_control;
    const part = contentPart(block, at, dropped);
    if (part !== undefined) parts.push(part);
  });
  parts.unshift(...toolImages);
  if (parts.length === 0) return;
  const message: Json = { role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join(PART_SEPARATOR) : parts };
  if (cacheControl !== undefined) message.cache_control = cacheControl;
  out.push(message);
}

function toolMessage(block: Block, at: string, dropped: Set<string>, images: Json[]): Json {
  if (typeof block.tool_use_id !== 'string') throw new InvalidArgumentError(`${at}.tool_use_id: must be a string`);
  let text = '';
  if (typeof block.content === 'string') text = block.content;
  else if (Array.isArray(block.content)) {
    const texts: string[] = [];
    block.content.forEach((inner, n) => {
      const part = contentPart(checkedBlock(inner, `${at}.content[${n}]`), `${at}.content[${n}]`, dropped);
      if (part === undefined) return;
      if (part.type === 'text') texts.push(part.text as string);
      else images.push(part);
    });
    text = texts.join(PART_SEPARATOR);
  } else if (block.content !== undefined) throw new InvalidArgumentError(`${at}.content: must be a string or an array of content blocks`);
  const message: Json = { role: 'tool', tool_call_id: block.tool_use_id, content: text };
  if (block.is_error === true) message.is_error = true;
  if (block.cache_control !== undefined) message.cache_control = block.cache_control;
  return message;
}

/** Returns the Chat Completions part of a user-side block, or undefined (and a `dropped` entry) when it has none. */
function contentPart(block: Block, at: string, dropped: Set<string>): Json | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: textOf(block, at) };
    case 'image': {
      const url = sourceUrl(block.source);
      if (url !== undefined) return { type: 'image_url', image_url: { url } };
      break;
    }
    case 'document': {
      const source = isJsonObject(block.source) ? block.source : {};
      if (source.type === 'text' && typeof source.data === 'string') return { type: 'text', text: source.data };
      const url = sourceUrl(source);
      if (url !== undefined && source.type === 'base64') {
        return { type: 'file', file: { filename: typeof block.title === 'string' ? block.title : 'document', file_data: url } };
      }
      break;
    }
  }
  dropped.add(`block:${block.type}`);
  return undefined;
}

/** Returns a URL (a data: URL for base64) for an image or document source, when it has one. */
function sourceUrl(source: unknown): string | undefined {
  if (!isJsonObject(source)) return undefined;
  if (source.type === 'base64' && typeof source.data === 'string' && typeof source.media_type === 'string') {
    return `data:${source.media_type};base64,${source.data}`;
  }
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  return undefined;
}
