/**
 * The trajectory file (SPEC section 2): one `{"request": …, "response": …}` line per completed
 * call, built from the compact JSON texts as they are (numbers are never re-serialised).
 * Overwrite mode (the reference's default) keeps only the latest record; append mode keeps all.
 * Writes are asynchronous and serialised, so a slow disk never delays an answer, and records
 * queued behind a write are written together (in overwrite mode only the latest one).
 */
import { appendFile, writeFile } from 'node:fs/promises';

export class TrajectoryWriter {
  readonly path: string;
  readonly #append: boolean;
  readonly #onError: (err: unknown) => void;
  #queue: string[] = [];
  #draining: Promise<void> | undefined;

  constructor(path: string, append: boolean, onError: (err: unknown) => void) {
    this.path = path;
    this.#append = append;
    this.#onError = onError;
  }

  /** Queues the record of one completed call. */
  record(requestJson: string, responseJson: string): void {
    this.#queue.push(`{"request":${requestJson},"response":${responseJson}}\n`);
    this.#draining ??= this.#drain();
  }

  /** Resolves when every queued record is on disk (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const lines = this.#queue;
        this.#queue = [];
        try {
          if (this.#append) await appendFile(this.path, lines.join(''));
          else await writeFile(this.path, lines[lines.length - 1]!);
        } catch (err) {
          this.#onError(err);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
