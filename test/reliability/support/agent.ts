/** The agent side: chat calls over HTTP, as an OpenAI client would make them. */
export interface ChatResult {
  status: number;
  body: string;
  ms: number;
  /** performance.timeOrigin + performance.now() when the reply had fully arrived. */
  at: number;
}

export interface PostOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /** Gives up when this aborts. */
  signal?: AbortSignal;
  /** Default /v1/chat/completions. */
  path?: string;
}

/** POSTs `body` to /v1/chat/completions; resolves with the status and text, or rejects on a network error or timeout. */
export async function postChat(url: string, body: string | Buffer, options: PostOptions = {}): Promise<ChatResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const res = await fetch(url + (options.path ?? '/v1/chat/completions'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
  });
  const text = await res.text();
  return { status: res.status, body: text, ms: performance.now() - started, at: performance.timeOrigin + performance.now() };
}

/** Returns the /health status code, or 0 when the service does not answer within 2 s. */
export async function health(url: string): Promise<number> {
  try {
    const res = await fetch(url + '/health', { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** A chat request of about `bytes` bytes whose user message carries `tag`. */
export function chatBody(tag: string, bytes = 0): string {
  const pad = bytes > 0 ? 'x'.repeat(Math.max(0, bytes - 80 - tag.length)) : '';
  return JSON.stringify({ model: 'm', messages: [{ role: 'user', content: tag }, ...(pad ? [{ role: 'user', content: pad }] : [])] });
}

/** A chat completion that answers with `content`. */
export function replyBody(content: string): string {
  return JSON.stringify({ id: 'r', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });
}
