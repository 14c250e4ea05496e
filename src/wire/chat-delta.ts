/**
 * Reading one chat.completion.chunk (the JSON text of an SSE `data:` field) into what the agent
 * event streams are built from: the delta of choice 0 with its vendor spellings settled, the
 * finish reason, usage, or an upstream's in-stream error.
 */
import { contentText, readUsage, reasoningOf, type ChatUsage } from './chat-answer.js';
import { isJsonObject, parseJsonObject, type JsonObject as Json } from './json-object.js';

export interface ChunkDelta {
  /** An upstream's in-stream error object (`data: {"error":{…}}`). */
  error?: Json;
  usage?: ChatUsage;
  reasoning: string;
  /** LiteLLM's `thinking_blocks`: signatures and redacted thinking. */
  opaque: Json[];
  text: string;
  refusal: string;
  /** Tool call fragments (`index`, `id`, `function`); a legacy `function_call` is fragment 0. */
  toolCalls: Json[];
  finishReason?: string;
  /** vLLM's `stop_reason`: the stop string that ended the answer. */
  matchedStop?: unknown;
}

/** Returns the delta of a chunk, or undefined for `[DONE]` and text that is not a JSON object (left out, as the SSE aggregator does). */
export function readChunk(chunkText: string): ChunkDelta | undefined {
  if (chunkText.trim() === '[DONE]') return undefined;
  const chunk = parseJsonObject(chunkText);
  if (chunk === undefined) return undefined;
  const out: ChunkDelta = { reasoning: '', opaque: [], text: '', refusal: '', toolCalls: [] };
  if (isJsonObject(chunk.error)) {
    out.error = chunk.error;
    return out;
  }
  if (isJsonObject(chunk.usage)) out.usage = readUsage(chunk.usage);
  const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c): c is Json => isJsonObject(c) && (c.index === undefined || c.index === 0)) : undefined;
  if (choice === undefined) return out;
  const delta = isJsonObject(choice.delta) ? choice.delta : {};
  if (Array.isArray(delta.thinking_blocks)) out.opaque = delta.thinking_blocks.filter(isJsonObject);
  out.reasoning = reasoningOf(delta) ?? out.opaque.map((b) => (typeof b.thinking === 'string' ? b.thinking : '')).join('');
  out.text = contentText(delta.content);
  if (typeof delta.refusal === 'string') out.refusal = delta.refusal;
  if (Array.isArray(delta.tool_calls)) out.toolCalls = delta.tool_calls.filter(isJsonObject);
  if (isJsonObject(delta.function_call)) out.toolCalls.push({ index: 0, function: delta.function_call });
  if (typeof choice.finish_reason === 'string') out.finishReason = choice.finish_reason;
  if (choice.stop_reason !== undefined && choice.stop_reason !== null) out.matchedStop = choice.stop_reason;
  return out;
}

/** Returns the message of an upstream's in-stream error object. */
export function upstreamMessage(error: Json): string {
  return `the upstream model failed mid-stream: ${typeof error.message === 'string' ? error.message : JSON.stringify(error)}`;
}
