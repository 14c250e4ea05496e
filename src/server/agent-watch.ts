/**
 * Watches agent processes for the local service (`watch-agent`, docs/cli.md): when a watched process has
 * exited or is a zombie, the session ends, once, however many watches there were.
 */
import { isProcessGone } from '../process/process-state.js';

export class AgentWatcher {
  readonly #pids = new Set<number>();
  readonly #intervalMs: number;
  readonly #onGone: (pid: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  /** `onGone` runs at most once, for the first watched process found gone. */
  constructor(intervalMs: number, onGone: (pid: number) => void) {
    this.#intervalMs = intervalMs;
    this.#onGone = onGone;
  }

  /** Returns how many processes are being watched. */
  get size(): number {
    return this.#pids.size;
  }

  /** Starts watching `pid`; the first check runs right away (a pid that is already gone ends the session at once). */
  watch(pid: number): void {
    if (this.#done) return;
    this.#pids.add(pid);
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#check(), this.#intervalMs);
      this.#timer.unref();
    }
    setImmediate(() => this.#check());
  }

  /** Stops every watch. */
  close(): void {
    this.#done = true;
    this.#pids.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    if (this.#done) return;
    for (const pid of this.#pids) {
      if (isProcessGone(pid)) {
        this.close();
        this.#onGone(pid);
        return;
      }
    }
  }
}
