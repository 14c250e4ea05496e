import { RawJson } from './recorder.js';

/** A chat-completion request as the proxy needs it: its bytes to forward, and what routing and recording read. */
export interface ChatRequest {
  body: Buffer;
  json: RawJson;
  model: string | undefined;
  stream: boolean;
}

/**
 * Reads the raw body the service's content-type parser hands over.
 * @returns the request, or `{ error }` with a message for a 400 when it is not a JSON object.
 */
export function readChatRequest(raw: unknown): ChatRequest | { error: string } {
  const body = Buffer.isBuffer(raw) ? raw : typeof raw === 'string' ? Buffer.from(raw) : undefined;
  if (body === undefined) return { error: 'the request body must be a JSON object' };
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { error: `the request body is not valid JSON (${(err as Error).message}): send a chat-completion request object` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: 'the request body must be a JSON object (a chat-completion request)' };
  }
  const { model, stream } = parsed as { model?: unknown; stream?: unknown };
  return { body, json: new RawJson(body), model: typeof model === 'string' ? model : undefined, stream: stream === true };
}
