/**
 * Reads a text/event-stream body the way the agents' parsers do: events end at a blank line,
 * `event:` names them, `data:` lines are joined with newlines, lines starting with `:` are
 * comments (kept here, in order, so a test can see the heartbeats).
 */

export type SseItem = { kind: 'event'; event: string; data: string } | { kind: 'comment'; text: string };

/** The events of one SSE body, with their data parsed as JSON when it is JSON. */
export interface ParsedEvent {
  event: string;
  data: unknown;
}

/** Splits a whole SSE body into its events and comments. */
export function parseSse(body: string): SseItem[] {
  const items: SseItem[] = [];
  for (const block of body.split(/\r\n\r\n|\n\n|\r\r/)) {
    let event = '';
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === '') continue;
      if (line.startsWith(':')) {
        items.push({ kind: 'comment', text: line.slice(1).trimStart() });
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) items.push({ kind: 'event', event: event || 'message', data: data.join('\n') });
  }
  return items;
}

/** The events of `items` (comments left out), each data parsed as JSON when it is JSON. */
export function eventsOf(items: SseItem[]): ParsedEvent[] {
  return items.flatMap((item) => {
    if (item.kind !== 'event') return [];
    let data: unknown = item.data;
    try {
      data = JSON.parse(item.data);
    } catch {
      // Not JSON: kept as text.
    }
    return [{ event: item.event, data }];
  });
}

/**
 * Reads a streamed answer to its end, but at most `timeoutMs`.
 * @throws Error when the stream is still open at the bound, naming what arrived so far.
 */
export async function readSseBody(response: Response, timeoutMs: number): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, left)))),
    ]);
    clearTimeout(timer);
    if (next === 'timeout') {
      await reader.cancel();
      throw new Error(`the stream was still open after ${timeoutMs} ms; it had sent: ${text.slice(0, 2000)}`);
    }
    if (next.done) return text + decoder.decode();
    text += decoder.decode(next.value, { stream: true });
  }
}
