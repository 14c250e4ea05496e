/**
 * The `text/event-stream` framing every API here shares. Payloads are JSON texts, which never
 * hold a raw line break, so each event is one `data:` line (two with a named `event:`).
 */

/** Returns one unnamed SSE event carrying `json` (Chat Completions frames every chunk this way). */
export function sseData(json: string): string {
  return `data: ${json}\n\n`;
}

/** Returns one named SSE event (`event: name`) carrying `json`, as Messages and Responses stream. */
export function sseEvent(name: string, json: string): string {
  return `event: ${name}\ndata: ${json}\n\n`;
}

/**
 * An SSE comment: every SSE parser skips it (the openai and @anthropic-ai/sdk clients among them),
 * yet it moves bytes, so idle-connection timers in proxies and HTTP stacks see activity.
 */
export const SSE_KEEP_ALIVE = ': keep-alive\n\n';

/** The headers of every event stream the service answers with (its own, translated or replayed). */
export const SSE_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
