import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/** One recorded call as a replay serves it. */
export interface ReplayEntry {
  /** 1-based line in the replay file, for logs. */
  line: number;
  model: string | undefined;
  /** What the client was answered when it was recorded (200 unless the record says otherwise). */
  statusCode: number;
  response: unknown;
  error: string | undefined;
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
   * Reads a recording (JSONL, one call per line; blank lines are ignored).
   * @returns a cursor at its first entry.
   * @throws ConfigError naming the file, and the line when one is not a record.
   */
  static async load(file: string): Promise<ReplayCursor> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      throw new ConfigError(`replay file ${file} cannot be read (${reason}): check the --replay-file path`, 'replay_file');
    }
    const entries: ReplayEntry[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === '') continue;
      entries.push(parseLine(file, i + 1, lines[i]!));
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
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`replay file ${file} line ${line} is not valid JSON (${(err as Error).message}): fix or remove that line`, 'replay_file');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record) || !('response' in record)) {
    throw new ConfigError(`replay file ${file} line ${line} is not a recorded call (a JSON object with a "response" key)`, 'replay_file');
  }
  const r = record as Record<string, unknown>;
  const failed = r.status === 'failure';
  const statusCode = typeof r.status_code === 'number' ? r.status_code : failed && r.response == null ? 502 : 200;
  return {
    line,
    model: typeof r.model === 'string' ? r.model : undefined,
    statusCode,
    response: r.response ?? null,
    error: typeof r.error === 'string' ? r.error : undefined,
  };
}
