/** Runs the trace in this process into memory: the events as `--json` prints them, or the text. */
import type { TraceEvent } from '../../../src/trace/model.js';
import { runTrace, type TraceOutput, type TraceRunOptions } from '../../../src/trace/run-trace.js';

/** A TraceOutput that keeps everything written. */
export class MemoryOutput implements TraceOutput {
  chunks: string[] = [];
  readonly closed = false;
  write(text: string): void {
    this.chunks.push(text);
  }
  drain(): void {}
  get text(): string {
    return this.chunks.join('');
  }
}

/** Returns the events `trace --json` prints for `path`. */
export async function traceEvents(path: string): Promise<TraceEvent[]> {
  const out = new MemoryOutput();
  await runTrace(path, { format: 'json' }, out);
  return out.text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as TraceEvent);
}

/** Returns the text `trace` prints for `path` (no colour unless asked). */
export async function traceText(path: string, options: Partial<TraceRunOptions> = {}): Promise<string> {
  const out = new MemoryOutput();
  await runTrace(path, { format: 'text', ...options }, out);
  return out.text;
}
