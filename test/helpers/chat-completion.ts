/**
 * The chat.completion and chat.completion.chunk bodies tests answer with, as a runtime or an
 * upstream writes them. Id, time and model are fixed, so that what a test expects never hangs
 * on a clock; a test that cares about a field spreads its own over the result.
 */

/** The usage a completion carries unless the test gives its own. */
export const COMPLETION_USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

/** Returns a chat.completion whose one choice is `message` (role `assistant` unless it names one); `usage: null` leaves usage out. */
export function chatCompletion(message: object, finishReason = 'stop', usage: object | null = COMPLETION_USAGE): Record<string, unknown> {
  const choices = [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }];
  return { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'policy', choices, ...(usage === null ? {} : { usage }) };
}

/** Returns chatCompletion's JSON text, as the runtime writes it. */
export function completionText(message: object, finishReason = 'stop', usage: object | null = COMPLETION_USAGE): string {
  return JSON.stringify(chatCompletion(message, finishReason, usage));
}

/** Returns a chat.completion.chunk whose one choice carries `delta`; `extra` adds fields beside `choices` (usage…). */
export function chatChunk(delta: object, finishReason: string | null = null, extra: object = {}): Record<string, unknown> {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'policy', choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra };
}

/** Returns chatChunk's JSON text: the data of one event of a Chat Completions stream. */
export function chunkText(delta: object, finishReason: string | null = null, extra: object = {}): string {
  return JSON.stringify(chatChunk(delta, finishReason, extra));
}

/** Returns the chunk that ends a stream asked for usage (`stream_options.include_usage`): no choice, only `usage`. */
export function usageChunk(usage: object): Record<string, unknown> {
  return { ...chatChunk({}), choices: [], usage };
}
