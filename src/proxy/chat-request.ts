import { InvalidJsonError } from '../errors.js';
import { decodeUtf8 } from '../protocol/index.js';
import { isJsonObject } from '../wire/json-object.js';
import { RawJson } from './recorder.js';

/** A chat-completion request as the proxy needs it: its bytes to forward, and what routing and recording read. */
export interface ChatRequest {
  body: Buffer;
  json: RawJson;
  model: string | undefined;
  stream: boolean;
}

/**
 * Reads a request body as a chat-completion request. A body that is not UTF-8 is refused, as
 * local mode refuses it: no upstream API takes it, and it would make the recording a file
 * that is not UTF-8 (one bad record breaks every JSONL reader of the file).
 * @returns the request.
 * @throws InvalidUtf8Error (400) when it is not UTF-8, InvalidJsonError (400) when it is not a JSON object.
 */
export function readChatRequest(body: Buffer): ChatRequest {
  const text = decodeUtf8(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidJsonError(`the request body is not valid JSON (${(err as Error).message}): send a chat-completion request object`);
  }
  if (!isJsonObject(parsed)) throw new InvalidJsonError('the request body must be a JSON object (a chat-completion request)');
  const { model, stream } = parsed;
  return { body, json: new RawJson(body), model: typeof model === 'string' ? model : undefined, stream: stream === true };
}
