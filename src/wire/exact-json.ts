/**
 * JSON read and written again with every number spelled as it came (docs/agent-apis.md: a 19-digit
 * integer in tool arguments survives both ways). Translation rebuilds objects, so it cannot copy
 * bytes; it reads through `parseKeepingNumbers` and puts the spellings back when it writes.
 */
import { BadResponseError, InvalidArgumentError } from '../errors.js';
import { parseJsonText } from '../protocol/index.js';
import { parseKeepingNumbers } from '../protocol/exact-numbers.js';
import { isJsonObject, type JsonObject } from './json-object.js';

/** What a placeholder looks like once JSON.stringify has escaped its leading NUL. */
const PLACEHOLDER_MARK = '\\u0000rms-number:';

export class ExactJson {
  private readonly restorers: ((serialized: string) => string)[] = [];

  /**
   * Parses `text`, remembering the spelling of every number JSON.stringify would change.
   * @throws InvalidJsonError saying where the text broke.
   */
  read(text: string): unknown {
    let parsed;
    try {
      parsed = parseKeepingNumbers(text);
    } catch {
      // Only a broken text gets here: parseJsonText names the line and column.
      parseJsonText(text);
      throw new InvalidArgumentError('the JSON text could not be read');
    }
    this.restorers.push(parsed.restore);
    return parsed.value;
  }

  /**
   * Parses `text` as a JSON object.
   * @throws InvalidJsonError when it is not JSON, InvalidArgumentError when it is not an object.
   */
  readObject(text: string, what: string): JsonObject {
    const value = this.read(text);
    if (!isJsonObject(value)) throw new InvalidArgumentError(`${what} must be a JSON object, not ${describe(value)}`);
    return value;
  }

  /**
   * Parses a final object the runtime wrote in an agent's API (native mode): a JSON object
   * whose `listKey` is an array.
   * @throws BadResponseError (502) naming `what` was expected.
   */
  readAnswer(text: string, index: number, what: string, listKey: string): JsonObject {
    let value: unknown;
    try {
      value = this.read(text);
    } catch (err) {
      throw new BadResponseError(index, `the runtime's answer is not JSON; write ${what}`, { cause: err });
    }
    if (!isJsonObject(value) || !Array.isArray(value[listKey])) {
      throw new BadResponseError(index, `the runtime's answer is not ${what} (its "${listKey}" must be an array; got ${describe(value)}); native mode expects the agent API's own answer`);
    }
    return value;
  }

  /**
   * Serialises `value` (built from what `read` returned) with the original number spellings.
   * @throws InvalidArgumentError when the value nests deeper than JSON.stringify can go.
   */
  write(value: unknown): string {
    let text: string;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      if (err instanceof RangeError) throw new InvalidArgumentError('the JSON nests too deeply to translate; flatten the values');
      throw err;
    }
    if (!text.includes(PLACEHOLDER_MARK)) return text;
    for (const restore of this.restorers) text = restore(text);
    return text;
  }
}

/** Returns "an array", "a string"… for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
