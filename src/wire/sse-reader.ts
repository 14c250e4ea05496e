import { StringDecoder } from 'node:string_decoder';

/** One server-sent event: its `data:` lines joined (as the SSE format defines), its UTF-8 size with its blank line, and where it starts. */
export interface SseEvent {
  data: string;
  bytes: number;
  /** Its offset in the stream, bytes. */
  at: number;
}

/** An SSE event ends at a blank line, in any of the three line-ending styles. */
const EVENT_BOUNDARY = /\r\n\r\n|\n\n|\r\r/g;

/**
 * Cuts a `text/event-stream` into events as its bytes arrive (UTF-8 sequences and events split
 * across reads are joined). An event longer than `maxEventBytes` is never held whole: it is
 * dropped as it grows and counted in `overlong`, so an endless event costs bounded memory.
 */
export class SseReader {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Dropping the rest of an event that grew past maxEventBytes. */
  private discarding = false;
  /** UTF-8 bytes of the stream read into whole events so far (where the next event starts). */
  offset = 0;
  /** Events dropped because they were longer than maxEventBytes. */
  overlong = 0;
  /** Where the first such event starts, bytes. */
  firstOverlongAt: number | undefined;

  constructor(readonly maxEventBytes: number) {}

  /** @returns the events that the bytes completed, in order. */
  push(input: Buffer | string): SseEvent[] {
    const text = typeof input === 'string' ? input : this.decoder.write(input);
    if (text === '') return [];
    const events: SseEvent[] = [];
    // Search only the new text (and the 3 chars before it, where a boundary may have begun), so a long event costs linear time.
    EVENT_BOUNDARY.lastIndex = Math.max(0, this.pending.length - 3);
    this.pending += text;
    let start = 0;
    let m: RegExpExecArray | null;
    while ((m = EVENT_BOUNDARY.exec(this.pending)) !== null) {
      const event = this.pending.slice(start, m.index);
      const bytes = Buffer.byteLength(event) + m[0].length;
      if (this.discarding) this.discarding = false;
      else if (bytes > this.maxEventBytes) this.noteOverlong();
      else events.push({ data: dataOf(event), bytes, at: this.offset });
      this.offset += bytes;
      start = m.index + m[0].length;
    }
    if (start > 0) this.pending = this.pending.slice(start);
    // A UTF-16 unit is at most 3 UTF-8 bytes, so only a long pending text needs counting.
    if (this.pending.length > this.maxEventBytes / 3 && Buffer.byteLength(this.pending) > this.maxEventBytes) this.dropPending();
    return events;
  }

  /** @returns the last event, when the stream ended without its blank line. */
  end(): SseEvent[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (this.discarding || rest.trim() === '') return [];
    const bytes = Buffer.byteLength(rest);
    const at = this.offset;
    if (bytes > this.maxEventBytes) this.noteOverlong();
    this.offset += bytes;
    return bytes > this.maxEventBytes ? [] : [{ data: dataOf(rest), bytes, at }];
  }

  private noteOverlong(): void {
    this.overlong++;
    this.firstOverlongAt ??= this.offset;
  }

  /** Drops what came of an event past the bound, keeping only where its boundary may begin. */
  private dropPending(): void {
    if (!this.discarding) this.noteOverlong();
    this.discarding = true;
    this.offset += Buffer.byteLength(this.pending.slice(0, -3));
    this.pending = this.pending.slice(-3);
  }
}

/** @returns the event's `data:` payloads joined by line breaks ('' when it has none: a comment, a lone `event:`). */
function dataOf(event: string): string {
  // Nearly every event is a single `data:` line: no split, no filter, no join.
  if (!event.includes('\n') && !event.includes('\r')) return dataOfLine(event) ?? '';
  const lines: string[] = [];
  for (const line of event.split(/\r\n|\r|\n/)) {
    const data = dataOfLine(line);
    if (data !== undefined) lines.push(data);
  }
  return lines.join('\n');
}

function dataOfLine(line: string): string | undefined {
  if (!line.startsWith('data:')) return undefined;
  return line.slice(line.startsWith('data: ') ? 6 : 5);
}
