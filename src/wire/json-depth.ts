/**
 * How deeply nested a value the proxy keeps in a record or serves from a replay. V8's
 * JSON.stringify recurses and overflows the stack near 4 170 levels from an empty stack here
 * (fewer inside a request handler); no chat completion comes near 1 000, so that is the bound
 * with room to spare.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Whether `value` nests objects and arrays more than `maxDepth` levels deep (a scalar is depth
 * 0, `[]` is 1, `[{}]` is 2). Walks with its own stack, so any depth is measured without
 * recursion, and stops at the first container past the bound.
 * @returns true when some container lies deeper than `maxDepth`.
 */
export function jsonDepthExceeds(value: unknown, maxDepth: number = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [container, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(container) ? container : Object.values(container);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
