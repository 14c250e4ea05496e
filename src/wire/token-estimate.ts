/**
 * `POST /v1/messages/count_tokens` without a tokenizer: an estimate, documented as one
 * (docs/agent-apis.md). Every piece of text the model would read (system, message text and
 * thinking, tool inputs and results, tool names, descriptions and schemas) counts one token per
 * four UTF-8 bytes, rounded up: close to what BPE tokenizers give English prose and code, and
 * it errs high on dense text, which keeps an agent's context budgeting on the safe side. Each
 * image or document counts IMAGE_TOKENS, Anthropic's figure for an image of about a megapixel.
 */
import { InvalidArgumentError, InvalidJsonError } from '../errors.js';
import { parseJsonText } from '../protocol/index.js';
import { isJsonObject } from './json-object.js';

export const BYTES_PER_TOKEN = 4;
export const IMAGE_TOKENS = 1600;

/**
 * Returns `{"input_tokens": N}` for a count_tokens body (a Messages request without max_tokens).
 * @throws InvalidJsonError when it is not JSON; InvalidArgumentError when it has no messages array.
 */
export function countTokensBody(body: string): string {
  const { value } = parseJsonText(body);
  if (!isJsonObject(value)) throw new InvalidJsonError('the request body must be a JSON object (a Messages request)');
  if (!Array.isArray(value.messages)) throw new InvalidArgumentError('messages: must be an array of {role, content} messages');
  const tally = { bytes: 0, media: 0 };
  countValue(value.system, tally);
  countValue(value.messages, tally);
  if (Array.isArray(value.tools)) tally.bytes += Buffer.byteLength(JSON.stringify(value.tools));
  return JSON.stringify({ input_tokens: Math.ceil(tally.bytes / BYTES_PER_TOKEN) + tally.media * IMAGE_TOKENS });
}

/** Adds the text a model reads in `value` (every string but the structure's own keys and ids); an image or document counts as media. */
function countValue(value: unknown, tally: { bytes: number; media: number }): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') tally.bytes += Buffer.byteLength(v);
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (isJsonObject(v)) {
      if (v.type === 'image' || v.type === 'document') {
        tally.media++;
        continue;
      }
      for (const [key, inner] of Object.entries(v)) {
        if (key === 'type' || key === 'id' || key === 'tool_use_id' || key === 'signature' || key === 'cache_control' || key === 'role') continue;
        if (key === 'input' && isJsonObject(inner)) tally.bytes += Buffer.byteLength(JSON.stringify(inner));
        else stack.push(inner);
      }
    }
  }
}
