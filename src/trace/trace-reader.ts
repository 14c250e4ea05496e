/**
 * Turns the lines of a trace file into session records. Three kinds of file are read: the
 * communication log (`LLM_REQUEST_START…` lines), a local-mode trajectory
 * (`{"request":…,"response":…}` per line) and a proxy recording (`model, stream, status, …`
 * per line). All three are read with the log scanner: in a JSONL file every line is an
 * "unknown" record, which gives its bounds just the same, so one reader serves files and
 * live logs, and nothing is read twice or held whole.
 */
import { InvalidArgumentError } from '../errors.js';
import { REQUEST_END, RESPONSE_END } from '../protocol/markers.js';
import type { LogScanner } from '../scanner/index.js';
import { F_INDEX, F_KIND, F_LINE_END, F_LINE_START, F_PAYLOAD_END, F_PAYLOAD_START, RECORD_STRIDE, RecordKind, type ScanResult } from '../scanner/types.js';
import { objectMembers, parseSlice, wholeValue, type Slice } from './json-slices.js';
import type { SessionInput, SessionView } from './session-view.js';

export type TraceFormat = 'log' | 'jsonl';

/** Lines looked at before a file that is neither format is refused. */
const UNDECIDED_LINES = 16;

/** The meta timestamp: epoch ms. */
function epochMs(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isoMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Scan limits per batch: small batches let output and the event loop keep up with a big file. */
const BATCH = { maxRecords: 64, maxBytes: 8 * 1024 * 1024 };

/**
 * Feeds the file from `offset` to its current end, awaiting `pause` after each batch (the
 * output's back-pressure), until `stopped` says so; resolves with the offset reached (the
 * start of a partial last line).
 * @throws what TraceReader.feed throws, and the scanner's I/O errors.
 */
export async function readToEnd(scanner: LogScanner, reader: TraceReader, offset: number, pause: () => Promise<void> | void, stopped: () => boolean = () => false): Promise<number> {
  while (!stopped()) {
    const batch = scanner.scan(offset, BATCH);
    if (batch.nextOffset <= offset) return offset;
    reader.feed(batch, scanner);
    offset = batch.nextOffset;
    await pause();
    if (offset >= batch.size) return offset;
  }
  return offset;
}

/** Reads records from a scanner into a SessionView; `format` is settled by the first telling line. */
export class TraceReader {
  format: TraceFormat | undefined;
  readonly #view: SessionView;
  readonly #path: string;
  #jsonlIndex = 0;
  #undecided = 0;

  constructor(view: SessionView, path: string, format?: TraceFormat) {
    this.#view = view;
    this.#path = path;
    this.format = format;
  }

  /** Starts over (the file was truncated or replaced). */
  reset(): void {
    this.#jsonlIndex = 0;
    this.#undecided = 0;
  }

  /**
   * Feeds one scan batch to the view.
   * @throws InvalidArgumentError when the first lines show the file is neither a log nor a JSONL trace.
   */
  feed(batch: ScanResult, scanner: LogScanner): void {
    const r = batch.records;
    for (let i = 0; i < batch.count; i++) {
      const b = i * RECORD_STRIDE;
      const kind = r[b + F_KIND] as RecordKind;
      const lineStart = r[b + F_LINE_START]!;
      const lineEnd = r[b + F_LINE_END]!;
      if (kind === RecordKind.Unknown) {
        this.#unknownLine(scanner, lineStart, lineEnd);
        continue;
      }
      if (this.format === undefined) this.format = 'log';
      if (this.format === 'jsonl') {
        this.#view.add({ kind: 'skipped', offset: lineStart, reason: 'a log line in a JSONL file' });
        continue;
      }
      if (kind === RecordKind.SessionEnd) {
        this.#view.add({ kind: 'session_end', offset: lineStart });
      } else if (kind === RecordKind.Malformed) {
        this.#view.add({ kind: 'skipped', offset: lineStart, reason: 'a malformed line: no end marker, meta that is not JSON, or an index that is not an integer' });
      } else {
        this.#markerLine(scanner, kind, r[b + F_INDEX]!, lineStart, r[b + F_PAYLOAD_START]!, r[b + F_PAYLOAD_END]!, lineEnd);
      }
    }
  }

  #markerLine(scanner: LogScanner, kind: RecordKind, index: number, lineStart: number, payloadStart: number, payloadEnd: number, lineEnd: number): void {
    // One pread for payload and meta together.
    const bytes = scanner.readPayload({ kind, index, lineStart, payloadStart, payloadEnd: lineEnd, lineEnd });
    const payloadLength = payloadEnd - payloadStart;
    const markerLength = kind === RecordKind.Request ? REQUEST_END.length : RESPONSE_END.length;
    let meta: Record<string, unknown> = {};
    try {
      meta = JSON.parse(bytes.toString('utf8', payloadLength + markerLength)) as Record<string, unknown>;
    } catch {
      // The scanner already checked that the meta is JSON; a file rewritten under us reads as no meta.
    }
    const payload = { buf: bytes, slice: wholeValue(bytes, 0, payloadLength) ?? { start: 0, end: payloadLength } };
    const at = epochMs(meta.timestamp);
    if (kind === RecordKind.Request) {
      const endpoint = typeof meta.endpoint === 'string' ? meta.endpoint : undefined;
      this.#view.add({ kind: 'request', index, offset: lineStart, payload, ...(at !== undefined ? { at } : {}), ...(endpoint ? { endpoint } : {}) });
    } else {
      this.#view.add({ kind: 'response', index, offset: lineStart, payload, ...(at !== undefined ? { at } : {}) });
    }
  }

  #unknownLine(scanner: LogScanner, lineStart: number, lineEnd: number): void {
    const line = scanner.readPayload({ kind: RecordKind.Unknown, index: -1, lineStart, payloadStart: lineStart, payloadEnd: lineEnd, lineEnd });
    const value = wholeValue(line, 0, line.length);
    if (value === null) return this.#notJson(lineStart, line.length);
    if (this.format === undefined) {
      if (line[value.start] !== 0x7b) return this.#notJson(lineStart, line.length);
      this.format = 'jsonl';
    }
    if (this.format === 'log') {
      this.#view.add({ kind: 'skipped', offset: lineStart, reason: 'a line that is not a log record' });
      return;
    }
    const members = objectMembers(line, value);
    const request = members?.get('request');
    if (!members || !request) {
      this.#view.add({ kind: 'skipped', offset: lineStart, reason: 'a JSONL line without a "request"' });
      return;
    }
    this.#view.add(this.#call(line, members, request, lineStart));
  }

  #call(line: Buffer, members: Map<string, Slice>, request: Slice, offset: number): SessionInput {
    const field = (key: string): unknown => {
      const slice = members.get(key);
      return slice ? parseSlice(line, slice) : undefined;
    };
    const response = members.get('response');
    const hasResponse = response !== undefined && line.toString('latin1', response.start, response.end) !== 'null';
    const endpoint = field('endpoint');
    const statusCode = field('status_code');
    const seconds = field('response_time');
    const error = field('error');
    const failed = field('status') === 'failure';
    return {
      kind: 'call',
      index: ++this.#jsonlIndex,
      offset,
      request: { buf: line, slice: request },
      response: hasResponse ? { buf: line, slice: response } : null,
      ...(typeof endpoint === 'string' ? { endpoint } : {}),
      ...(typeof statusCode === 'number' ? { statusCode } : {}),
      ...(typeof seconds === 'number' ? { latencyMs: Math.round(seconds * 1000) } : {}),
      ...(isoMs(field('start_time')) !== undefined ? { requestedAt: isoMs(field('start_time'))! } : {}),
      ...(isoMs(field('end_time')) !== undefined ? { answeredAt: isoMs(field('end_time'))! } : {}),
      ...(typeof error === 'string' && error !== '' ? { error } : failed ? { error: 'the call failed' } : {}),
    };
  }

  #notJson(offset: number, length: number): void {
    if (length === 0 || (length <= 2 && this.format !== 'log')) return;
    if (this.format === undefined && ++this.#undecided >= UNDECIDED_LINES) {
      throw new InvalidArgumentError(
        `${this.#path} is not a trace: its first ${UNDECIDED_LINES} lines are neither log records (LLM_REQUEST_START…) nor JSON objects; give an LLMService.log, an LLMTraj.jsonl or a proxy recording`,
      );
    }
    this.#view.add({ kind: 'skipped', offset, reason: this.format === 'log' ? 'a line that is not a log record' : 'a line that is not JSON' });
  }
}
