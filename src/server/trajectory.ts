/**
 * The trajectory file (docs/http.md): one `{"request": …, "response": …}` line per completed
 * call, built from the compact JSON texts as they are (numbers are never re-serialised).
 * Overwrite mode (the reference's default) keeps only the latest record; append mode keeps all.
 * A record is built and written after the answer that completes it has been sent (on the event
 * loop's next turn), so its copy of the request and its write stay off the turn's path; records
 * queued by then are written together (in overwrite mode only the latest one).
 *
 * The file stays open between records: opening, writing and closing it per record, as the
 * reference does, cost about 110 µs of the service's CPU a turn (a profile of 2000 turns), more
 * than the log's own work. Before each write the path is checked (one lstat): a file deleted,
 * renamed away or replaced meanwhile is followed to what the path names now, as a reopen per
 * record would. Like the log, it is never opened through a final symbolic link, and the writes
 * are synchronous like the log's appends: the two share a disk.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, writeSync } from 'node:fs';
import { openRegularFile } from '../log-file/index.js';

const REQUEST_PREFIX = Buffer.from('{"request":', 'utf8');

/** What an agent API's call adds to its record: the route, the agent's request and answer (JSON texts), what was left out. */
export interface AgentSide {
  endpoint: string;
  agentRequest: string;
  /** undefined when the runtime's response could not become the agent's answer. */
  agentResponse: string | undefined;
  dropped: readonly string[];
}

export class TrajectoryWriter {
  readonly path: string;
  readonly #append: boolean;
  readonly #onError: (err: unknown) => void;
  #queue: Buffer[][] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #file: { fd: number; dev: number; ino: number } | undefined;

  constructor(path: string, append: boolean, onError: (err: unknown) => void) {
    this.path = path;
    this.#append = append;
    this.#onError = onError;
  }

  /**
   * Queues the record of one completed call; the request may be given as its UTF-8 bytes (no
   * re-encoding of megabytes). `agent` adds what an agent API's agent sent and got, when the
   * runtime saw a translation (docs/agent-apis.md).
   */
  record(requestJson: string | Buffer, responseJson: string, agent?: AgentSide): void {
    const request = typeof requestJson === 'string' ? Buffer.from(requestJson, 'utf8') : requestJson;
    let tail = `,"response":${responseJson}`;
    if (agent !== undefined) {
      tail += `,"endpoint":${JSON.stringify(agent.endpoint)},"agent_request":${agent.agentRequest},"agent_response":${agent.agentResponse ?? 'null'}`;
      if (agent.dropped.length > 0) tail += `,"dropped":${JSON.stringify(agent.dropped)}`;
    }
    this.#queue.push([REQUEST_PREFIX, request, Buffer.from(`${tail}}\n`, 'utf8')]);
    this.#scheduled ??= setImmediate(() => this.#drain());
  }

  /** Writes what is queued and closes the file (a failure is reported, not thrown); a later record opens it again. */
  close(): void {
    this.#drain();
    this.#release();
  }

  #drain(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#queue.length === 0) return;
    const records = this.#queue;
    this.#queue = [];
    try {
      const fd = this.#open();
      if (this.#append) {
        writeWhole(fd, Buffer.concat(records.flat()), null);
      } else {
        const latest = Buffer.concat(records[records.length - 1]!);
        writeWhole(fd, latest, 0);
        ftruncateSync(fd, latest.length);
      }
    } catch (err) {
      this.#release();
      this.#onError(err);
    }
  }

  /** The descriptor of the file the path names now, opened (or reopened) as needed. */
  #open(): number {
    const file = this.#file;
    if (file !== undefined) {
      const now = lstatSync(this.path, { throwIfNoEntry: false });
      if (now !== undefined && now.dev === file.dev && now.ino === file.ino) return file.fd;
      this.#release();
    }
    const flags = constants.O_WRONLY | constants.O_CREAT | (this.#append ? constants.O_APPEND : 0);
    const fd = openRegularFile(this.path, flags, 'the trajectory file');
    const { dev, ino } = fstatSync(fd);
    this.#file = { fd, dev, ino };
    return fd;
  }

  #release(): void {
    if (this.#file === undefined) return;
    const { fd } = this.#file;
    this.#file = undefined;
    try {
      closeSync(fd);
    } catch (err) {
      this.#onError(err);
    }
  }
}

/** Writes all of `bytes` at `position` (null: the file's end, O_APPEND), however many write(2) calls it takes. */
function writeWhole(fd: number, bytes: Buffer, position: number | null): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position === null ? null : position + done);
  }
}
