/**
 * The turns of a local session, by index: each request line appended has one turn whose
 * `response` settles when the runtime's response of that index is routed (or the session
 * ends). Calls wait on a turn with their own deadline and their own connection, so a call
 * that ends without its answer (its agent left, or it was answered 504) leaves the turn
 * *orphaned* rather than dropped: a retry of the same bytes re-attaches to it and gets
 * response N as soon as it is, or already was, in the log (SPEC section 4, "Answers,
 * retries, streams"). A bounded number of orphans is kept, the oldest dropped first.
 */
import { createHash } from 'node:crypto';
import { AbortedError } from '../errors.js';
import type { ResponseRouter } from '../follower/index.js';

/** One request line and what became of it. */
export interface Turn {
  readonly index: number;
  /** Where the request came in (`/v1/chat/completions`, `/v1/messages`, …). */
  readonly endpoint: string;
  /** The response payload text; rejects when the session ends or the service stops first. */
  readonly response: Promise<string>;
  /** The response once it arrived. */
  readonly answered: string | undefined;
}

interface TurnState extends Turn {
  answered: string | undefined;
  /** How many calls wait on it now. */
  calls: number;
  /** Length and SHA-256 of the raw body, computed when the turn is first orphaned (the body is dropped then). */
  fingerprint: { length: number; digest: string } | undefined;
  body: Buffer | undefined;
}

export class Turns {
  readonly #router: ResponseRouter;
  readonly #maxOrphans: number;
  readonly #live = new Map<number, TurnState>();
  /** Orphaned turns in the order they were orphaned (a Map keeps insertion order). */
  readonly #orphans = new Map<number, TurnState>();

  constructor(router: ResponseRouter, maxOrphans: number) {
    this.#router = router;
    this.#maxOrphans = maxOrphans;
  }

  /** Returns how many orphaned turns are kept. */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  /**
   * Opens the turn of `index` before its request line is appended (no response can slip past
   * between the append and the wait). `body` is the raw request, for matching a retry;
   * `onAnswer` runs once, when the response arrives, whoever waits then (the trajectory
   * records the turn there).
   */
  open(index: number, endpoint: string, body: Buffer, onAnswer: (response: string) => void): Turn {
    const turn = { index, endpoint, answered: undefined, calls: 1, fingerprint: undefined, body } as TurnState;
    (turn as { response: Promise<string> }).response = this.#router.waitFor(index).then((response) => {
      turn.answered = response;
      onAnswer(response);
      return response;
    });
    // A turn nobody waits on any more must not raise an unhandled rejection at session end.
    turn.response.catch(() => this.#forget(turn));
    this.#live.set(index, turn);
    return turn;
  }

  /**
   * Finds the orphaned turn whose request had exactly these bytes and takes it for a new call.
   * @returns the turn, or undefined when the call is a new turn.
   */
  reattach(body: Buffer): Turn | undefined {
    if (this.#orphans.size === 0) return undefined;
    let digest: string | undefined;
    for (const turn of [...this.#orphans.values()].reverse()) {
      if (turn.fingerprint!.length !== body.length) continue;
      digest ??= sha256(body);
      if (turn.fingerprint!.digest !== digest) continue;
      this.#orphans.delete(turn.index);
      turn.calls++;
      return turn;
    }
    return undefined;
  }

  /**
   * A call on `turn` ended. Without `delivered`, the turn becomes an orphan (kept for a retry);
   * once delivered, or when the turn failed for good, it is forgotten.
   */
  release(turn: Turn, delivered: boolean): void {
    const state = this.#live.get(turn.index);
    if (state === undefined || state !== turn) return;
    state.calls--;
    if (delivered) {
      this.#forget(state);
      return;
    }
    if (state.calls > 0) return;
    if (state.fingerprint === undefined) {
      state.fingerprint = { length: state.body!.length, digest: sha256(state.body!) };
      state.body = undefined;
    }
    this.#orphans.set(state.index, state);
    while (this.#orphans.size > this.#maxOrphans) {
      const oldest = this.#orphans.values().next().value!;
      this.#forget(oldest);
      this.#router.cancel(oldest.index, new AbortedError(`turn ${oldest.index} was orphaned too long ago to be retried`));
    }
  }

  #forget(turn: TurnState): void {
    if (this.#live.get(turn.index) === turn) this.#live.delete(turn.index);
    this.#orphans.delete(turn.index);
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}
