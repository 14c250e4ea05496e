import { InvalidJsonError } from '../errors.js';
import { decodeUtf8 } from '../protocol/index.js';
import { isJsonObject } from '../wire/json-object.js';
import { RawJson } from './recorder.js';

/** A request as the proxy needs it when it forwards it unchanged: its bytes, and what routing and recording read. */
export interface JsonRequest {
  body: Buffer;
  /** The body decoded. */
  text: string;
  json: RawJson;
  model: string | undefined;
  stream: boolean;
}

/**
 * Reads a request body as a JSON object (`what` names the API's request, for the message). A
 * body that is not UTF-8 is refused, as local mode refuses it: no upstream API takes it, and it
 * would make the recording a file that is not UTF-8 (one bad record breaks every JSONL reader of the file).
 * @returns the request.
 * @throws InvalidUtf8Error (400) when it is not UTF-8, InvalidJsonError (400) when it is not a JSON object.
 */
export function readJsonRequest(body: Buffer, what = 'a chat-completion request'): JsonRequest {
  const text = decodeUtf8(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidJsonError(`the request body is not valid JSON (${(err as Error).message}): send ${what} object`);
  }
  if (!isJsonObject(parsed)) throw new InvalidJsonError(`the request body must be a JSON object (${what})`);
  const { model, stream } = parsed;
  return { body, text, json: new RawJson(body), model: typeof model === 'string' ? model : undefined, stream: stream === true };
}
