/**
 * OpenAI Responses request → Chat Completions request. `instructions` and `system` /
 * `developer` messages become system messages (chat templates rarely know `developer`); the
 * items of one assistant turn (reasoning, its message, its function calls) become one assistant
 * message; `function_call_output` items become `tool` messages. A `previous_response_id` is
 * expanded from the ResponsesStore into the conversation it continues. Codex's `namespace`
 * tools are flattened (`namespace__name`), its freeform `custom` tools become functions taking
 * `{"input": string}`, and tools only OpenAI runs (`web_search`, `file_search`…) are left out.
 */
import { InvalidArgumentError } from '../errors.js';
import { cappedMaxTokens, type ChatTranslation, type TranslationOptions } from './agent-api.js';
import { newId } from './chat-answer.js';
import { describe, ExactJson } from './exact-json.js';
import { isJsonObject, type JsonObject as Json } from './json-object.js';
import type { ResponsesStore } from './responses-store.js';
import { ToolNames, type AgentToolName } from './tool-names.js';

/** What translating a Responses answer back needs. */
export interface ResponsesState {
  responseId: string;
  /** Unix seconds. */
  createdAt: number;
  model: string;
  /** JSON object text of the request fields a Response repeats (instructions, tools, tool_choice…), numbers as written. */
  echo: string;
  /** Chat tool name → the agent's tool, where they differ. */
  tools: Record<string, AgentToolName>;
  /** The agent asked for a reasoning summary: reasoning goes to `summary`, else to `content` as `reasoning_text`. */
  reasoningSummary: boolean;
  /** Keep the response for a later previous_response_id (`store` is true unless the agent said false). */
  store: boolean;
  previousResponseId: string | null;
  /** JSON array text of this call's own input items, for the ResponsesStore. */
  input: string;
}

const TRANSLATED = new Set([
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'stream',
  'store',
  'include',
  'previous_response_id',
  'reasoning',
  'text',
  'user',
  'safety_identifier',
]);
/** Fields about OpenAI's service (caching, tiers, tracing) that say nothing to a model, or that the Response only repeats. */
const IGNORED = new Set(['metadata', 'prompt_cache_key', 'service_tier', 'truncation', 'stream_options', 'client_metadata', 'background']);

const PART_SEPARATOR = '\n';

/**
 * Translates a Responses request body; `options.maxTokensCap` caps its max_output_tokens.
 * @throws InvalidJsonError, InvalidArgumentError when it is not a Responses request;
 *   UnknownResponseError when its previous_response_id is not kept in `store`.
 */
export function responsesToChat(body: string, store: ResponsesStore, options: TranslationOptions = {}): ChatTranslation<ResponsesState> {
  const json = new ExactJson();
  const req = json.readObject(body, 'a Responses request');
  const dropped = new Set<string>();
  for (const key of Object.keys(req)) if (!TRANSLATED.has(key) && !IGNORED.has(key)) dropped.add(`field:${key}`);
  if (req.background === true) dropped.add('field:background');
  const names = new ToolNames();
  const model = typeof req.model === 'string' ? req.model : '';
  const chat: Json = { model };
  const tools = req.tools === undefined || req.tools === null ? [] : translateTools(req.tools, names, dropped);

  const own = ownItems(req.input);
  const previous = req.previous_response_id ?? null;
  if (previous !== null && typeof previous !== 'string') throw new InvalidArgumentError(`previous_response_id: must be a string, not ${describe(previous)}`);
  const history = previous === null ? [] : (json.read(store.history(previous)) as unknown[]);

  const conversation = new ChatConversation(names, dropped, json);
  if (typeof req.instructions === 'string') conversation.system(req.instructions);
  else if (Array.isArray(req.instructions)) conversation.items(req.instructions, 'instructions');
  else if (req.instructions !== undefined && req.instructions !== null) throw new InvalidArgumentError('instructions: must be a string or an array of input items');
  conversation.items(history, 'the previous response');
  conversation.items(own, 'input');
  chat.messages = conversation.finish();

  if (tools.length > 0) {
    chat.tools = tools;
    if (req.tool_choice !== undefined) {
      const choice = toolChoice(req.tool_choice, names, dropped);
      if (choice !== undefined) chat.tool_choice = choice;
    }
    if (typeof req.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (typeof req.max_output_tokens === 'number') chat.max_tokens = cappedMaxTokens(req.max_output_tokens, options);
  for (const key of ['temperature', 'top_p'] as const) if (req[key] !== undefined && req[key] !== null) chat[key] = req[key];
  const reasoning = isJsonObject(req.reasoning) ? req.reasoning : {};
  if (typeof reasoning.effort === 'string') chat.reasoning_effort = reasoning.effort;
  if (isJsonObject(req.text)) translateText(req.text, chat, dropped);
  const user = req.user ?? req.safety_identifier;
  if (typeof user === 'string') chat.user = user;
  const stream = req.stream === true;
  if (stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }

  const echo = {
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    metadata: req.metadata ?? {},
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: previous,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    store: req.store ?? true,
    temperature: req.temperature ?? 1,
    text: req.text ?? { format: { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_p: req.top_p ?? 1,
    truncation: req.truncation ?? 'disabled',
    user: req.user ?? null,
  };
  return {
    chat: json.write(chat),
    model,
    stream,
    dropped: [...dropped],
    state: {
      responseId: newId('resp_'),
      createdAt: Math.floor(Date.now() / 1000),
      model,
      echo: json.write(echo),
      tools: names.renamed,
      reasoningSummary: typeof reasoning.summary === 'string' && reasoning.summary !== 'none',
      store: req.store !== false,
      previousResponseId: previous,
      input: json.write(own),
    },
  };
}

/** Returns the call's own items: a string input is one user message. */
function ownItems(input: unknown): unknown[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  if (Array.isArray(input)) return input;
  throw new InvalidArgumentError(`input: must be a string or an array of input items, not ${describe(input)}`);
}

function translateTools(tools: unknown, names: ToolNames, dropped: Set<string>): Json[] {
  if (!Array.isArray(tools)) throw new InvalidArgumentError(`tools: must be an array of tools, not ${describe(tools)}`);
  const out: Json[] = [];
  tools.forEach((tool, i) => {
    if (!isJsonObject(tool) || typeof tool.type !== 'string') throw new InvalidArgumentError(`tools[${i}]: must be an object with a string "type"`);
    if (tool.type === 'function' || tool.type === 'custom') out.push(chatTool(tool, `tools[${i}]`, names));
    else if (tool.type === 'namespace') {
      if (typeof tool.name !== 'string' || !Array.isArray(tool.tools)) throw new InvalidArgumentError(`tools[${i}]: a namespace needs a string "name" and a "tools" array`);
      tool.tools.forEach((inner, k) => {
        const at = `tools[${i}].tools[${k}]`;
        if (!isJsonObject(inner) || typeof inner.type !== 'string') throw new InvalidArgumentError(`${at}: must be an object with a string "type"`);
        if (inner.type === 'function' || inner.type === 'custom') out.push(chatTool(inner, at, names, tool.name as string));
        else dropped.add(`tool:${tool.name as string}.${inner.type}`);
      });
    } else dropped.add(`tool:${tool.type}`);
  });
  return out;
}

/** A function stays a function; a freeform custom tool becomes a function of one string, `input`. */
function chatTool(tool: Json, where: string, names: ToolNames, namespace?: string): Json {
  if (typeof tool.name !== 'string' || tool.name === '') throw new InvalidArgumentError(`${where}.name: must be a non-empty string`);
  const custom = tool.type === 'custom';
  const fn: Json = { name: names.chatName(custom ? { name: tool.name, namespace, custom: true } : { name: tool.name, namespace }) };
  let description = typeof tool.description === 'string' ? tool.description : undefined;
  if (custom) {
    const format = isJsonObject(tool.format) ? tool.format : {};
    if (format.type === 'grammar' && typeof format.definition === 'string') {
      description = `${description ?? ''}\n\nThe input follows this ${typeof format.syntax === 'string' ? format.syntax : ''} grammar:\n${format.definition}`.trimStart();
    }
    fn.parameters = { type: 'object', properties: { input: { type: 'string', description: 'The raw input of this freeform tool.' } }, required: ['input'], additionalProperties: false };
  } else fn.parameters = isJsonObject(tool.parameters) ? tool.parameters : { type: 'object', properties: {} };
  if (description !== undefined) fn.description = description;
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function toolChoice(choice: unknown, names: ToolNames, dropped: Set<string>): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (!isJsonObject(choice) || typeof choice.type !== 'string') throw new InvalidArgumentError('tool_choice: must be "auto", "none", "required" or an object with a "type"');
  if ((choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') {
    const tool: AgentToolName = { name: choice.name };
    if (typeof choice.namespace === 'string') tool.namespace = choice.namespace;
    if (choice.type === 'custom') tool.custom = true;
    return { type: 'function', function: { name: names.chatName(tool) } };
  }
  dropped.add(`tool_choice:${choice.type}`);
  return choice.type === 'allowed_tools' && (choice.mode === 'auto' || choice.mode === 'required') ? choice.mode : undefined;
}

function translateText(text: Json, chat: Json, dropped: Set<string>): void {
  const format = isJsonObject(text.format) ? text.format : undefined;
  if (format?.type === 'json_schema') {
    const { type: _type, ...schema } = format;
    chat.response_format = { type: 'json_schema', json_schema: schema };
  } else if (format?.type === 'json_object') chat.response_format = { type: 'json_object' };
  else if (format !== undefined && format.type !== 'text') dropped.add(`text.format:${String(format.type)}`);
  if (typeof text.verbosity === 'string') chat.verbosity = text.verbosity;
}

/**
 * Builds chat messages from Responses items. The items of one assistant turn join one assistant
 * message (its reasoning, text and tool calls); a tool or user message closes it.
 */
class ChatConversation {
  private readonly messages: Json[] = [];
  private assistant: { message: Json; texts: string[]; reasoning: string[]; opaque: Json[]; calls: Json[] } | undefined;
  /** Images from tool outputs, sent in a user message after the tool messages (tool messages carry text only). */
  private toolImages: Json[] = [];

  constructor(
    private readonly names: ToolNames,
    private readonly dropped: Set<string>,
    private readonly json: ExactJson,
  ) {}

  system(text: string): void {
    this.push({ role: 'system', content: text });
  }

  items(items: unknown[], where: string): void {
    items.forEach((item, i) => this.item(item, `${where}[${i}]`));
  }

  finish(): Json[] {
    this.closeAssistant();
    this.flushToolImages();
    return this.messages;
  }

  private push(message: Json): void {
    this.closeAssistant();
    if (message.role !== 'tool') this.flushToolImages();
    this.messages.push(message);
  }

  private item(item: unknown, at: string): void {
    if (!isJsonObject(item)) throw new InvalidArgumentError(`${at}: must be an input item object`);
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        return this.message(item, at);
      case 'function_call':
      case 'custom_tool_call':
        return this.call(item, at, type === 'custom_tool_call');
      case 'function_call_output':
      case 'custom_tool_call_output':
        return this.output(item, at);
      case 'reasoning':
        return this.reasoning(item);
      default:
        this.dropped.add(`item:${String(type)}`);
    }
  }

  private message(item: Json, at: string): void {
    const { role, content } = item;
    if (role === 'assistant') {
      const turn = this.openAssistant('text');
      turn.texts.push(this.text(content, `${at}.content`));
      return;
    }
    if (role !== 'user' && role !== 'system' && role !== 'developer') {
      throw new InvalidArgumentError(`${at}.role: must be "user", "assistant", "system" or "developer", not ${JSON.stringify(role)}`);
    }
    const parts = typeof content === 'string' ? [{ type: 'text', text: content }] : this.parts(content, `${at}.content`);
    const chatContent = parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join(PART_SEPARATOR) : parts;
    this.push({ role: role === 'user' ? 'user' : 'system', content: chatContent });
  }

  private call(item: Json, at: string, custom: boolean): void {
    if (typeof item.call_id !== 'string' || typeof item.name !== 'string') throw new InvalidArgumentError(`${at}: needs a string "call_id" and "name"`);
    const tool: AgentToolName = { name: item.name };
    if (typeof item.namespace === 'string') tool.namespace = item.namespace;
    let args: string;
    if (custom) {
      tool.custom = true;
      if (typeof item.input !== 'string') throw new InvalidArgumentError(`${at}.input: must be a string`);
      args = JSON.stringify({ input: item.input });
    } else {
      if (typeof item.arguments !== 'string') throw new InvalidArgumentError(`${at}.arguments: must be a string (JSON text)`);
      args = item.arguments;
    }
    this.openAssistant('call').calls.push({ id: item.call_id, type: 'function', function: { name: this.names.chatName(tool), arguments: args } });
  }

  private output(item: Json, at: string): void {
    if (typeof item.call_id !== 'string') throw new InvalidArgumentError(`${at}.call_id: must be a string`);
    let text: string;
    if (typeof item.output === 'string') text = item.output;
    else if (Array.isArray(item.output)) {
      const parts = this.parts(item.output, `${at}.output`);
      text = parts.filter((p) => p.type === 'text').map((p) => p.text).join(PART_SEPARATOR);
      this.toolImages.push(...parts.filter((p) => p.type !== 'text'));
    } else text = item.output === undefined || item.output === null ? '' : this.json.write(item.output);
    this.push({ role: 'tool', tool_call_id: item.call_id, content: text });
  }

  private reasoning(item: Json): void {
    const texts = (list: unknown): string[] => (Array.isArray(list) ? list.filter(isJsonObject).map((p) => (typeof p.text === 'string' ? p.text : '')).filter((t) => t !== '') : []);
    const content = texts(item.content);
    const text = (content.length > 0 ? content : texts(item.summary)).join(PART_SEPARATOR);
    const turn = this.openAssistant('reasoning');
    if (text !== '') turn.reasoning.push(text);
    if (typeof item.encrypted_content === 'string' && item.encrypted_content !== '') {
      turn.opaque.push({ type: 'thinking', thinking: text, signature: item.encrypted_content });
    }
  }

  /** Returns the open assistant message, or a new one when `kind` cannot follow what it holds (reasoning opens a turn). */
  private openAssistant(kind: 'reasoning' | 'text' | 'call'): NonNullable<ChatConversation['assistant']> {
    const turn = this.assistant;
    const fits = turn !== undefined && (kind === 'call' || turn.calls.length === 0) && (kind !== 'reasoning' || (turn.texts.length === 0 && turn.calls.length === 0));
    if (fits) return turn;
    this.closeAssistant();
    this.flushToolImages();
    const message: Json = { role: 'assistant', content: null };
    this.messages.push(message);
    this.assistant = { message, texts: [], reasoning: [], opaque: [], calls: [] };
    return this.assistant;
  }

  private closeAssistant(): void {
    const turn = this.assistant;
    if (turn === undefined) return;
    this.assistant = undefined;
    const m = turn.message;
    m.content = turn.texts.length === 0 && turn.calls.length > 0 ? null : turn.texts.join(PART_SEPARATOR);
    if (turn.reasoning.length > 0) m.reasoning_content = turn.reasoning.join(PART_SEPARATOR);
    if (turn.opaque.length > 0) m.thinking_blocks = turn.opaque;
    if (turn.calls.length > 0) m.tool_calls = turn.calls;
  }

  private flushToolImages(): void {
    if (this.toolImages.length === 0) return;
    const content = this.toolImages;
    this.toolImages = [];
    this.messages.push({ role: 'user', content });
  }

  private text(content: unknown, at: string): string {
    if (typeof content === 'string') return content;
    return this.parts(content, at)
      .filter((p) => p.type === 'text')
      .map((p) => p.text)
      .join(PART_SEPARATOR);
  }

  /** Returns the chat parts of Responses content parts; a part chat cannot carry is named in `dropped`. */
  private parts(content: unknown, at: string): Json[] {
    if (!Array.isArray(content)) throw new InvalidArgumentError(`${at}: must be a string or an array of content parts`);
    const out: Json[] = [];
    content.forEach((part, i) => {
      if (!isJsonObject(part) || typeof part.type !== 'string') throw new InvalidArgumentError(`${at}[${i}]: must be a content part with a string "type"`);
      switch (part.type) {
        case 'input_text':
        case 'output_text':
        case 'text':
          if (typeof part.text !== 'string') throw new InvalidArgumentError(`${at}[${i}].text: must be a string`);
          out.push({ type: 'text', text: part.text });
          return;
        case 'refusal':
          if (typeof part.refusal === 'string') out.push({ type: 'text', text: part.refusal });
          return;
        case 'input_image':
          if (typeof part.image_url === 'string') {
            const image: Json = { url: part.image_url };
            if (typeof part.detail === 'string') image.detail = part.detail;
            out.push({ type: 'image_url', image_url: image });
            return;
          }
          break;
        case 'input_file':
          if (typeof part.file_data === 'string') {
            out.push({ type: 'file', file: { file_data: part.file_data, filename: typeof part.filename === 'string' ? part.filename : 'file' } });
            return;
          }
          break;
      }
      this.dropped.add(`content:${part.type}`);
    });
    return out;
  }
}
