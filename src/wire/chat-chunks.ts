/**
 * Turns a complete chat.completion into the `text/event-stream` body an OpenAI streaming
 * client expects (docs/http.md, docs/proxy.md; the reference returns plain JSON here, which breaks
 * those clients). One converter for both modes: each choice's message becomes its delta and
 * each tool call gets its `index`. A streamed replay is that one chunk (finish reason and
 * usage on it) plus `[DONE]`; local mode splits it into the message chunk, a finish-reason
 * chunk and a usage chunk, the shape OpenAI's own streams have.
 * It imports no proxy code: the proxy's replay backend imports it, and local mode must not load proxy code.
 */
import { isJsonObject, type JsonObject as Json } from './json-object.js';
import { parseKeepingNumbers, type ExactParse } from '../protocol/exact-numbers.js';
import { BadResponseError } from '../errors.js';
import { jsonDepthExceeds } from './json-depth.js';

/**
 * A chat.completion as the one `chat.completion.chunk` that carries all of it: every top-level
 * and vendor field kept, usage on the same chunk. The fields the official client's stream
 * helper needs (id, created, model, role, finish reason) are filled in when the reply lacks them.
 * @returns the chunk object.
 */
export function completionToChunk(completion: Json): Json {
  const chunk: Json = {
    ...completion,
    id: completion.id ?? 'chatcmpl-local',
    object: 'chat.completion.chunk',
    created: completion.created ?? Math.floor(Date.now() / 1000),
    model: completion.model ?? '',
  };
  const choices = Array.isArray(completion.choices) ? completion.choices : [];
  chunk.choices = choices.filter(isJsonObject).map((choice, position) => {
    const { message, ...rest } = choice;
    return { index: position, ...rest, delta: messageToDelta(message), finish_reason: choice.finish_reason ?? 'stop' };
  });
  return chunk;
}

/** A message becomes a delta as it is, except that each tool call gets the `index` streaming needs. */
function messageToDelta(message: unknown): Json {
  if (!isJsonObject(message)) return { role: 'assistant' };
  const delta: Json = { ...message };
  if (Array.isArray(message.tool_calls)) {
    delta.tool_calls = message.tool_calls.map((call, index) => (isJsonObject(call) ? { index, ...call } : call));
  }
  return delta;
}

/** The one chunk as three: the deltas without finish reasons, the finish reasons, then usage (when there is any). */
function splitChunk(chunk: Json): Json[] {
  const { choices, usage, ...base } = chunk;
  const whole = (choices as Json[]).map((choice) => ({ ...choice, finish_reason: null }));
  const finish = (choices as Json[]).map((choice) => ({ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finish_reason }));
  const chunks: Json[] = [
    { ...base, choices: whole },
    { ...base, choices: finish },
  ];
  if (usage !== undefined && usage !== null) chunks.push({ ...base, choices: [], usage });
  return chunks;
}

/**
 * The whole `text/event-stream` body for a chat.completion: one chunk event (three with
 * `split`), then `data: [DONE]`.
 * @returns the body text.
 */
export function completionToSse(completion: Json, options: { split?: boolean } = {}): string {
  const chunk = completionToChunk(completion);
  const chunks = options.split === true ? splitChunk(chunk) : [chunk];
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
}

/**
 * Returns local mode's SSE body for `replyJson` (split chunks), every number spelled as the
 * runtime wrote it. A reply that is not a chat completion, or one nested too deeply to be
 * re-serialised (JSON.stringify recurses), is sent as it is, as one event: the agent gets the
 * reply its plain call would have got.
 */
export function completionToEventStream(replyJson: string): string {
  const asIs = `data: ${replyJson}\n\ndata: [DONE]\n\n`;
  let parsed: ExactParse;
  try {
    parsed = parseKeepingNumbers(replyJson);
  } catch {
    return asIs;
  }
  const reply = parsed.value;
  if (!isJsonObject(reply) || !Array.isArray(reply.choices) || jsonDepthExceeds(reply)) return asIs;
  return parsed.restore(completionToSse(reply, { split: true }));
}

/**
 * Returns the JSON texts of the chunks local mode streams for `completionJson` (the message, the
 * finish reasons, the usage), every number spelled as the runtime wrote it: what the agent-API
 * translators are fed in local mode, as proxy mode feeds them an upstream's chunks.
 * @throws BadResponseError when the text is not a chat completion.
 */
export function chatCompletionChunks(completionJson: string, index = 0): string[] {
  let parsed: ExactParse;
  try {
    parsed = parseKeepingNumbers(completionJson);
  } catch (err) {
    throw new BadResponseError(index, "the runtime's answer is not JSON; write a chat.completion object", { cause: err });
  }
  const reply = parsed.value;
  if (!isJsonObject(reply) || !Array.isArray(reply.choices)) {
    throw new BadResponseError(index, "the runtime's answer is not a chat.completion (no choices array); write a chat.completion object");
  }
  return splitChunk(completionToChunk(reply)).map((chunk) => parsed.restore(JSON.stringify(chunk)));
}
