/**
 * Deterministic log lines for the appender scenarios: the reader rebuilds the exact bytes a
 * writer meant from (writer, seq) alone, so a line read back is checked byte for byte.
 */
import { encodeRequestLine, encodeResponseLine } from '../../../src/protocol/index.js';

export interface SizePlan {
  /** Every `bigEvery`-th line of a writer is `bigBytes` long (the 8 MiB lines). */
  bigEvery: number;
  bigBytes: number;
  /** Share of lines drawn log-uniformly from 64 KiB to 1 MiB; the rest from 10 B to 64 KiB. */
  mediumShare: number;
}

export const FULL_PLAN: SizePlan = { bigEvery: 500, bigBytes: 8 * 2 ** 20, mediumShare: 0.02 };

/** A 32-bit mix of the inputs, as a fraction in [0, 1). */
function unit(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(c + 1, 0x27d4eb2f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 2 ** 32;
}

function logUniform(u: number, lo: number, hi: number): number {
  return Math.round(Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))));
}

/** The total length, newline included, of line `seq` of `writer`. */
export function lineSize(plan: SizePlan, writer: number, seq: number): number {
  if ((seq + 1) % plan.bigEvery === 0) return plan.bigBytes;
  const u = unit(writer, seq, 1);
  if (u < plan.mediumShare) return logUniform(unit(writer, seq, 2), 64 * 1024, 2 ** 20);
  return logUniform(unit(writer, seq, 3), 10, 64 * 1024);
}

/** Writer 0 plays the service (request lines), the others the runtime (response lines). */
export function buildLine(writer: number, seq: number, size: number): Buffer {
  const fill = String.fromCharCode(97 + ((writer * 7 + seq) % 26));
  const shell = writer === 0 ? encodeRequestLine(`{"w":${writer},"s":${seq},"p":""}`, seq + 1, { timestampMs: seq }) : encodeResponseLine(`{"w":${writer},"s":${seq},"p":""}`, seq + 1, seq);
  if (size >= shell.length) {
    const compact = `{"w":${writer},"s":${seq},"p":"${fill.repeat(size - shell.length)}"}`;
    return writer === 0 ? encodeRequestLine(compact, seq + 1, { timestampMs: seq }) : encodeResponseLine(compact, seq + 1, seq);
  }
  // Too short for a framed record: a bare line, which every reader skips as an unknown line.
  const head = `t${writer}.${seq}.`;
  const line = Buffer.alloc(Math.max(size, head.length + 1), fill);
  line.write(head, 0, 'latin1');
  line[line.length - 1] = 0x0a;
  return line;
}

/** Which writer and seq a line read back claims to be, or null when it names none. */
export function identifyLine(line: Buffer): { writer: number; seq: number } | null {
  const head = line.subarray(0, 64).toString('latin1');
  const framed = /^LLM_RE(?:QUEST|SPONSE)_START\{"w":(\d+),"s":(\d+),/.exec(head);
  const bare = framed ?? /^t(\d+)\.(\d+)\./.exec(head);
  return bare ? { writer: Number(bare[1]), seq: Number(bare[2]) } : null;
}
