import { close, constants, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writev } from 'node:fs';
import { dirname } from 'node:path';
import type { RecordTruncation } from '../wire/chat-stream-aggregator.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../wire/json-depth.js';

/** One line of the recording (docs/proxy.md), with `status_code`: what the client was answered. */
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
  /** The RMS_* code of the error the proxy answered itself (timeout, unreachable upstream, too large), for a replay. */
  error_code?: string;
  /** The agent API route called (`/v1/messages`, `/v1/responses`); absent for Chat Completions. */
  endpoint?: string;
  /**
   * The agent's own request, when the upstream got its translation to Chat Completions (then
   * `request` / `response` are the Chat Completions pair). A record with an `endpoint` and no
   * `agent_request` passed through: its `request` / `response` are in the agent's API.
   */
  agent_request?: RawJson;
  /** What the agent got in its API (the final object, the stream's events folded, or the error body); null when nothing. */
  agent_response?: RawJson | unknown;
  /** What the translation left out (`tool:web_search`, `field:thinking`…). */
  dropped?: readonly string[];
  /** Only when the record leaves something out (the stream passed record_max_bytes, a value too deep to record). */
  truncated?: RecordTruncation;
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
  private queuedRecords = 0;
  private writing = false;
  private drained: (() => void) | undefined;

  /** @throws the open error when the file or its directory cannot be created. */
  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    // Readable too, so that a torn tail can be checked before it is cut off.
    this.fd = openSync(file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644);
  }

  /** Queues one record; a failed write is reported to `onError`, never thrown at the call. */
  append(record: CallRecord): void {
    if (this.fd === undefined) return;
    let truncated = record.truncated;
    let text = '{';
    let separator = '';
    for (const [key, value] of Object.entries(record)) {
      if (key === 'truncated') continue;
      text += `${separator}"${key}":`;
      separator = ',';
      if (value instanceof RawJson) {
        this.queued.push(Buffer.from(text), value.bytes);
        text = '';
        continue;
      }
      const json = serialise(value ?? null);
      if (typeof json === 'string') {
        text += json;
      } else {
        text += 'null';
        truncated = { ...truncated, reason: truncated ? `${truncated.reason}; the ${key} ${json.cut}` : `the ${key} ${json.cut}` };
      }
    }
    if (truncated !== undefined) text += `${separator}"truncated":${JSON.stringify(truncated)}`;
    this.queued.push(Buffer.from(`${text}}\n`));
    this.queuedRecords++;
    if (!this.writing) this.writeQueued();
  }

  private writeQueued(): void {
    const fd = this.fd;
    const batch = this.queued;
    const records = this.queuedRecords;
    if (fd === undefined || batch.length === 0) {
      this.writing = false;
      this.drained?.();
      return;
    }
    this.queued = [];
    this.queuedRecords = 0;
    this.writing = true;
    const size = batch.reduce((n, b) => n + b.length, 0);
    writev(fd, batch, (err, written) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        this.onError(new Error(`could not append ${plural(records)} to ${this.file} (${code}): ${err.message}`, { cause: err }));
      } else if (written !== size) {
        const whole = removeTornTail(fd, batch, written);
        this.onError(
          new Error(
            `only ${written} of ${size} bytes reached ${this.file} (disk full or file-size limit): ${plural(records - whole)} not recorded; ` +
              'the partial line was removed',
          ),
        );
      }
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

const plural = (records: number): string => `${records} record${records === 1 ? '' : 's'}`;

/**
 * @returns the value's JSON text, or what was wrong when it cannot go into a record: nested
 *   deeper than a replay serves (JSON.stringify overflows the stack a few thousand levels down),
 *   or too long for one string.
 */
function serialise(value: unknown): string | { cut: string } {
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH - 1)) return { cut: `was nested deeper than a record may be (${MAX_JSON_DEPTH} levels) and was left out` };
  try {
    return JSON.stringify(value);
  } catch (err) {
    return { cut: `could not be serialised (${(err as Error).message}) and was left out` };
  }
}

/**
 * A short write leaves whole lines and then part of one. The whole lines stay; the part is cut
 * off, but only when the file still ends with exactly those bytes (nobody appended since), so
 * the next record is never glued onto it.
 * @returns how many records of the batch were written whole.
 */
function removeTornTail(fd: number, batch: readonly Buffer[], written: number): number {
  let whole = 0;
  let wholeBytes = 0;
  let offset = 0;
  for (const part of batch) {
    if (offset >= written) break;
    for (let i = part.indexOf(0x0a); i !== -1 && offset + i < written; i = part.indexOf(0x0a, i + 1)) {
      whole++;
      wholeBytes = offset + i + 1;
    }
    offset += part.length;
  }
  const torn = written - wholeBytes;
  if (torn <= 0) return whole;
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(torn);
    if (size < torn || readSync(fd, tail, 0, torn, size - torn) !== torn) return whole;
    if (tail.equals(Buffer.concat(batch).subarray(wholeBytes, written))) ftruncateSync(fd, size - torn);
  } catch {
    // Nothing more can be done safely; the torn bytes have no newline, so a JSONL reader that skips a bad last line loses only them.
  }
  return whole;
}
