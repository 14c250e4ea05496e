/**
 * The trajectory file (docs/http.md): one `{"request": …, "response": …}` line per completed
 * call, built from the compact JSON texts as they are (numbers are never re-serialised).
 * Overwrite mode (the reference's default) keeps only the latest record; append mode keeps all.
 * Writes are asynchronous and serialised, so a slow disk never delays an answer, and records
 * queued behind a write are written together (in overwrite mode only the latest one). A record
 * is built and written after the answer that completes it has been sent (the next turn of the
 * event loop): its copy of the request and its file calls stay off the turn's path.
 */
import { appendFile, writeFile } from 'node:fs/promises';

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
  #draining: Promise<void> | undefined;

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
    this.#draining ??= this.#drain();
  }

  /** Resolves when every queued record is on disk (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#queue.length > 0) {
        const records = this.#queue;
        this.#queue = [];
        try {
          if (this.#append) await appendFile(this.path, Buffer.concat(records.flat()));
          else await writeFile(this.path, Buffer.concat(records[records.length - 1]!));
        } catch (err) {
          this.#onError(err);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
