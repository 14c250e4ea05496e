/** The request lines of the torn-write scenario, rebuilt by index on both sides. */
import { encodeRequestLine } from '../../../src/protocol/index.js';

/** The compact payload of request `index`: 60 B to about 64 KiB, with a marker string inside. */
export function tornPayload(index: number): string {
  const size = Math.round(60 * Math.pow(1000, ((index * 37) % 101) / 100));
  return `{"i":${index},"note":"LLM_REQUEST\\u005fEND inside","p":"${String.fromCharCode(97 + (index % 26)).repeat(size)}"}`;
}

export function tornLine(index: number): Buffer {
  return encodeRequestLine(tornPayload(index), index, { timestampMs: index });
}
