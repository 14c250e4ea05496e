import { readRegularFile } from '../config/read-regular-file.js';
import { ConfigError } from '../errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../wire/json-depth.js';

/** One recorded call as a replay serves it. */
export interface ReplayEntry {
  /** 1-based line in the replay file, for logs. */
  line: number;
  model: string | undefined;
  /** What the client was answered when it was recorded (200 unless the record says otherwise). */
  statusCode: number;
  response: unknown;
  error: string | undefined;
  /** The RMS_* code the client got for a failure the proxy answered itself. */
  errorCode: string | undefined;
  /** The agent API route of the call recorded; undefined for Chat Completions. */
  endpoint: string | undefined;
  /** What the agent got in its API (a translated call); undefined when the record has none. */
  agentResponse: unknown;
  /** An agent call passed through unchanged: `response` is in the agent's API. */
  passedThrough: boolean;
}

/**
 * The recorded calls of a replay file, handed out in order, one per call: concurrent
 * calls each get a distinct entry because taking one is a single synchronous step.
 */
export class ReplayCursor {
  private nextIndex = 0;

  private constructor(
    readonly file: string,
    private readonly entries: readonly ReplayEntry[],
  ) {}

  /**
   * Reads a recording (JSONL, one call per line; blank lines are ignored) and checks every
   * record, so a bad one stops the start instead of a call: it must be a JSON object with a
   * `response`, a `status_code` (when present) an HTTP status a call can be answered with, and a
   * response no deeper than a record may be.
   * @returns a cursor at its first entry.
   * @throws ConfigError naming the file, and the line when one is not a servable record.
   */
  static async load(file: string): Promise<ReplayCursor> {
    const bytes = await readRegularFile(file);
    if (!Buffer.isBuffer(bytes)) {
      throw new ConfigError(`replay file ${file} ${bytes.reason}: check the --replay-file path`, 'replay_file');
    }
    const entries: ReplayEntry[] = [];
    // Line by line from the bytes: a recording may be larger than the longest string Node can hold (512 MiB).
    let line = 0;
    for (let start = 0; start < bytes.length; line++) {
      let end = bytes.indexOf(0x0a, start);
      if (end === -1) end = bytes.length;
      const text = bytes.toString('utf8', start, end);
      start = end + 1;
      if (text.trim() !== '') entries.push(parseLine(file, line + 1, text));
    }
    return new ReplayCursor(file, entries);
  }

  /** @returns the next entry, or undefined when every entry has been served. */
  next(): ReplayEntry | undefined {
    return this.entries[this.nextIndex++];
  }

  /** @returns how many entries the file holds. */
  get size(): number {
    return this.entries.length;
  }
}

function parseLine(file: string, line: number, text: string): ReplayEntry {
  const refuse = (what: string): never => {
    throw new ConfigError(`replay file ${file} line ${line} ${what}`, 'replay_file');
  };
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    refuse(`is not valid JSON (${(err as Error).message}): fix or remove that line`);
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record) || !('response' in record)) {
    refuse('is not a recorded call (a JSON object with a "response" key)');
  }
  const r = record as Record<string, unknown>;
  if (r.status_code !== undefined && !isAnswerStatus(r.status_code)) {
    refuse(`has status_code ${JSON.stringify(r.status_code)}, which no call can be answered with: it must be an integer from 200 to 599`);
  }
  for (const key of ['response', 'agent_response']) {
    if (jsonDepthExceeds(r[key], MAX_JSON_DEPTH - 1)) {
      refuse(`has a ${key} nested deeper than a record may be (${MAX_JSON_DEPTH} levels); it cannot be served: remove that line`);
    }
  }
  const endpoint = typeof r.endpoint === 'string' && r.endpoint !== '/v1/chat/completions' ? r.endpoint : undefined;
  const failed = r.status === 'failure';
  const statusCode = typeof r.status_code === 'number' ? r.status_code : failed && r.response == null ? 502 : 200;
  return {
    line,
    model: typeof r.model === 'string' ? r.model : undefined,
    statusCode,
    response: r.response ?? null,
    error: typeof r.error === 'string' ? r.error : undefined,
    errorCode: typeof r.error_code === 'string' ? r.error_code : undefined,
    endpoint,
    agentResponse: r.agent_response ?? undefined,
    passedThrough: endpoint !== undefined && !('agent_request' in r),
  };
}

/** 1xx are not final answers (101 would switch protocols), and past 599 is not HTTP. */
function isAnswerStatus(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 200 && (value as number) <= 599;
}
