/**
 * The turns of a local session, by index: each request line appended has one turn whose
 * `response` settles when the runtime's response of that index is routed (or the session
 * ends). Calls wait on a turn with their own deadline and their own connection, so a call
 * that ends without its answer (its agent left, or it was answered 504) leaves the turn
 * *orphaned* rather than dropped: a retry re-attaches to it and gets response N as soon as it
 * is, or already was, in the log (docs/http.md, "Retries re-attach"). A retry is a
 * call on the same route whose request line would be byte for byte the orphan's: the raw
 * bytes for Chat Completions up to insignificant whitespace, and the translation for the
 * agent APIs (Codex resends the same request with its `client_metadata` keys in another
 * order, which the translation leaves out). A bounded number of orphans is kept, the oldest
 * dropped first.
 */
import { AbortedError } from '../errors.js';
import type { ResponseRouter } from '../follower/index.js';
import type { Exchange } from './exchange.js';

/** What a turn's response became once it arrived. */
export interface TurnAnswer {
  /** The runtime's response payload text. */
  response: string;
  /** The agent's whole answer, or why the response cannot be one (BadResponseError). */
  agent: { body: string } | { error: unknown };
}

/** One request line and what became of it. */
export interface Turn {
  readonly index: number;
  /** The request of the call that opened the turn; its translation state serves every call on it. */
  readonly exchange: Exchange;
  /** Settles when the response arrives; rejects when the session ends or the service stops first. */
  readonly answer: Promise<TurnAnswer>;
  /** The answer once it arrived. */
  readonly answered: TurnAnswer | undefined;
}

interface TurnState extends Turn {
  answered: TurnAnswer | undefined;
  /** How many calls wait on it now. */
  calls: number;
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
   * between the append and the wait). `translate` makes the agent's answer of the response and
   * `onAnswer` runs once, when it arrives, whoever waits then (the trajectory records it there).
   */
  open(
    index: number,
    exchange: Exchange,
    translate: (response: string) => string,
    onAnswer: (answer: TurnAnswer) => void,
  ): Turn {
    const turn = { index, exchange, answered: undefined, calls: 1 } as TurnState;
    (turn as { answer: Promise<TurnAnswer> }).answer = this.#router.waitFor(index).then((response) => {
      let agent: TurnAnswer['agent'];
      try {
        agent = { body: translate(response) };
      } catch (error) {
        agent = { error };
      }
      turn.answered = { response, agent };
      onAnswer(turn.answered);
      return turn.answered;
    });
    // A turn nobody waits on any more must not raise an unhandled rejection at session end.
    turn.answer.catch(() => this.#forget(turn));
    this.#live.set(index, turn);
    return turn;
  }

  /**
   * Finds the orphaned turn whose request line would be the same as `exchange`'s and takes it
   * for a new call.
   * @returns the turn, or undefined when the call is a new turn.
   */
  reattach(exchange: Exchange): Turn | undefined {
    if (this.#orphans.size === 0) return undefined;
    for (const turn of [...this.#orphans.values()].reverse()) {
      if (!sameRequestLine(turn.exchange, exchange)) continue;
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

/** Whether `b` is on `a`'s route with the same request line payload, byte for byte: what a retry must repeat. */
function sameRequestLine(a: Exchange, b: Exchange): boolean {
  if (a.api.endpoint !== b.api.endpoint) return false;
  const [x, y] = [a.payload, b.payload];
  if (typeof x === 'string' && typeof y === 'string') return x === y;
  const bytes = (p: string | Buffer): Buffer => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return bytes(x).equals(bytes(y));
}
