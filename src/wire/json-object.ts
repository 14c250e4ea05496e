/** A parsed JSON object, as the server's routes, the stream converters and the proxy read one. */
export type JsonObject = Record<string, unknown>;

/** Returns whether `v` is an object that is neither null nor an array: what a JSON object parses to. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns the JSON object `text` holds, or undefined when it is not JSON or holds another value. */
export function parseJsonObject(text: string): JsonObject | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isJsonObject(value) ? value : undefined;
}
