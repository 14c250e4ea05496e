import { close, mkdirSync, openSync, writev } from 'node:fs';
import { dirname } from 'node:path';

/** One line of the recording (SPEC section 7), with `status_code`: what the client was answered. */
export interface CallRecord {
  model: string | null;
  stream: boolean;
  status: 'success' | 'failure';
  status_code: number;
  /** Seconds from the call's arrival to its last byte. */
  response_time: number;
  /** ISO 8601, UTC. */
  start_time: string;
  end_time: string;
  /** The request body as the client sent it. */
  request: RawJson;
  /** The answer: the upstream's JSON, the aggregate of a stream, or null when there was none. */
  response: RawJson | unknown;
  error: string | null;
}

/**
 * JSON bytes that go into a record as they are, so a megabyte request is neither parsed
 * again, stringified again, nor copied into the line. Only valid JSON may be wrapped.
 */
export class RawJson {
  readonly bytes: Buffer;
  constructor(validJson: Buffer) {
    // Outside strings JSON may hold raw line breaks, inside strings it may not: each one is whitespace, and a JSONL line must not break.
    this.bytes = validJson.includes(0x0a) || validJson.includes(0x0d) ? withoutLineBreaks(validJson) : validJson;
  }
}

function withoutLineBreaks(json: Buffer): Buffer {
  const copy = Buffer.from(json);
  for (const byte of [0x0a, 0x0d]) {
    for (let i = copy.indexOf(byte); i !== -1; i = copy.indexOf(byte, i + 1)) copy[i] = 0x20;
  }
  return copy;
}

/**
 * Appends one JSONL line per call. The file is opened with O_APPEND; while one write(2) is
 * under way, the lines of calls that finish meanwhile queue up and go out together in the
 * next single writev(2) (a line's raw JSON parts are not copied). Every write holds whole lines only, so lines never interleave or
 * tear, and under load the file system sees one call per batch instead of one per line
 * (a 10 KB append costs about 23 µs of system time here, more than the rest of a call).
 */
export class CallRecorder {
  private fd: number | undefined;
  private queued: Buffer[] = [];
  private writing = false;
  private drained: (() => void) | undefined;

  /** @throws the open error when the file or its directory cannot be created. */
  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'a');
  }

  /** Queues one record; a failed write is reported to `onError`, never thrown at the call. */
  append(record: CallRecord): void {
    if (this.fd === undefined) return;
    let text = '{';
    let separator = '';
    for (const [key, value] of Object.entries(record)) {
      text += `${separator}"${key}":`;
      separator = ',';
      if (value instanceof RawJson) {
        this.queued.push(Buffer.from(text), value.bytes);
        text = '';
      } else {
        text += JSON.stringify(value ?? null);
      }
    }
    this.queued.push(Buffer.from(`${text}}\n`));
    if (!this.writing) this.writeQueued();
  }

  private writeQueued(): void {
    const fd = this.fd;
    const batch = this.queued;
    if (fd === undefined || batch.length === 0) {
      this.writing = false;
      this.drained?.();
      return;
    }
    this.queued = [];
    this.writing = true;
    const size = batch.reduce((n, b) => n + b.length, 0);
    writev(fd, batch, (err, written) => {
      if (err) this.onError(err);
      else if (written !== size) this.onError(new Error(`short write to ${this.file}: ${written} of ${size} bytes (disk full?)`));
      this.writeQueued();
    });
  }

  /** Waits for queued lines, then closes the file. */
  async close(): Promise<void> {
    if (this.writing) await new Promise<void>((resolve) => (this.drained = resolve));
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve) => close(fd, () => resolve()));
  }
}
