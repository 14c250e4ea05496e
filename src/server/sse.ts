/**
 * Turns a complete chat.completion into the `text/event-stream` body an OpenAI streaming
 * client expects (SPEC section 4; the reference returns plain JSON here, which breaks those
 * clients): one chunk carrying each choice's whole message as its delta, one chunk with
 * the finish reasons, a usage chunk when the reply has usage, then `data: [DONE]`.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Returns the SSE body for `replyJson`; a reply that is not a chat completion is sent as one event. */
export function completionToEventStream(replyJson: string): string {
  let reply: unknown;
  try {
    reply = JSON.parse(replyJson);
  } catch {
    reply = undefined;
  }
  if (!isObject(reply) || !Array.isArray(reply.choices)) return `data: ${replyJson}\n\ndata: [DONE]\n\n`;
  const base: Json = { id: reply.id ?? 'chatcmpl-local', object: 'chat.completion.chunk', created: reply.created ?? Math.floor(Date.now() / 1000), model: reply.model ?? '' };
  if (reply.system_fingerprint !== undefined) base.system_fingerprint = reply.system_fingerprint;
  const choices = reply.choices.filter(isObject);
  const chunks: Json[] = [
    {
      ...base,
      choices: choices.map((c, i) => ({ index: c.index ?? i, delta: messageToDelta(c.message), logprobs: c.logprobs ?? null, finish_reason: null })),
    },
    {
      ...base,
      choices: choices.map((c, i) => ({ index: c.index ?? i, delta: {}, logprobs: null, finish_reason: c.finish_reason ?? 'stop' })),
    },
  ];
  if (reply.usage !== undefined && reply.usage !== null) chunks.push({ ...base, choices: [], usage: reply.usage });
  return chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('') + 'data: [DONE]\n\n';
}

/** A message becomes a delta as it is, except that each tool call gets the `index` streaming needs. */
function messageToDelta(message: unknown): Json {
  if (!isObject(message)) return { role: 'assistant' };
  const delta: Json = { ...message };
  if (Array.isArray(message.tool_calls)) {
    delta.tool_calls = message.tool_calls.map((call, index) => (isObject(call) ? { index, ...call } : call));
  }
  return delta;
}
