type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A chat.completion as the one `chat.completion.chunk` a streaming client expects: each
 * choice's message becomes its delta and each tool call gets its `index`. Usage, when
 * present, rides on the same chunk.
 * @returns the chunk object.
 */
export function completionToChunk(completion: Json): Json {
  const chunk: Json = { ...completion, object: 'chat.completion.chunk' };
  const choices = Array.isArray(completion.choices) ? completion.choices : [];
  chunk.choices = choices.filter(isObject).map((choice, position) => {
    const { message, ...rest } = choice;
    const delta: Json = isObject(message) ? { ...message } : {};
    if (Array.isArray(delta.tool_calls)) {
      delta.tool_calls = delta.tool_calls.map((call, index) => (isObject(call) ? { index, ...call } : call));
    }
    return { index: position, ...rest, delta, finish_reason: choice.finish_reason ?? null };
  });
  return chunk;
}

/**
 * The whole `text/event-stream` body for a chat.completion: one chunk event, then `data: [DONE]`.
 * @returns the body text.
 */
export function completionToSse(completion: Json): string {
  return `data: ${JSON.stringify(completionToChunk(completion))}\n\ndata: [DONE]\n\n`;
}
