/**
 * The running session as the live page sees it: a SessionView fed by a log follower (the
 * service's own, or one of its own), a snapshot for `GET /session`, and numbered events for
 * `GET /session/events`. Recent events are kept in a ring, so a page that reconnects (the
 * browser's EventSource sends Last-Event-ID) or that fetched its snapshot a moment before
 * subscribing misses nothing; one that fell further behind is told to fetch a new snapshot.
 */
import { randomBytes } from 'node:crypto';
import type { LogFollower } from '../follower/log-follower.js';
import type { TraceEvent } from './model.js';
import { SessionView, type SessionSnapshot } from './session-view.js';
import { TraceReader } from './trace-reader.js';

export interface LiveSessionOptions {
  /** Text kept for the snapshot before the oldest turns lose their messages; default 64 MiB. */
  retainBytes?: number;
  /** Events kept for subscribers that reconnect; default 2048. */
  ringSize?: number;
}

/** `GET /session`: the snapshot, the id of the last event it includes, and the server's clock. */
export interface LiveSnapshot extends SessionSnapshot {
  /** Pass it as `after` to `GET /session/events`: the stream then starts right after this snapshot. */
  cursor: string;
  /** Epoch ms on the service's clock, so the page can show waiting ages without trusting its own. */
  now: number;
  source: string;
}

/** One event of `GET /session/events`: its SSE id (`<epoch>.<seq>`), event name and JSON data. */
export interface LiveEvent {
  id: string;
  event: 'request' | 'turn' | 'state' | 'reset';
  data: string;
}

const DEFAULT_RETAIN_BYTES = 64 * 1024 * 1024;
const DEFAULT_RING = 2048;

/** See the file comment. Feed it with `attach(follower)`; `close()` detaches. */
export class LiveSession {
  readonly view: SessionView;
  readonly source: string;
  readonly #reader: TraceReader;
  readonly #ring: LiveEvent[] = [];
  readonly #ringSize: number;
  readonly #subscribers = new Set<(event: LiveEvent) => void>();
  readonly #detach: (() => void)[] = [];
  /** Tells this session's event ids from another's (a restarted service counts from 0 again). */
  readonly #epoch = randomBytes(4).toString('hex');
  #seq = 0;

  constructor(source: string, options: LiveSessionOptions = {}) {
    this.source = source;
    this.view = new SessionView({ retainBytes: options.retainBytes ?? DEFAULT_RETAIN_BYTES });
    this.#reader = new TraceReader(this.view, source, 'log');
    this.#ringSize = options.ringSize ?? DEFAULT_RING;
    this.#detach.push(this.view.onEvent((event) => this.#onViewEvent(event)));
  }

  /** Feeds the session from `follower` (which must start at the log's beginning); returns nothing, detached by close(). */
  attach(follower: LogFollower): void {
    this.#detach.push(
      follower.onRecords((batch, scanner) => this.#reader.feed(batch, scanner)),
      follower.onReset((reason) => {
        this.#reader.reset();
        this.view.reset(reason);
      }),
    );
  }

  /** Returns the snapshot for `GET /session`. */
  snapshot(): LiveSnapshot {
    return { ...this.view.snapshot(), cursor: this.#cursor(this.#seq), now: Date.now(), source: this.source };
  }

  /**
   * Sends the events after the one `after` names (a snapshot's cursor or an event id) that
   * the ring still holds, then every new one, to `send`; a `reset` first instead when `after`
   * is from another session or older than the ring. Returns the unsubscribe function.
   */
  subscribe(after: string | undefined, send: (event: LiveEvent) => void): () => void {
    if (after !== undefined && after !== '') {
      const [epoch, seqText] = after.split('.');
      const seq = Number(seqText);
      const oldest = this.#ring[0] ? Number(this.#ring[0].id.split('.')[1]) : this.#seq + 1;
      if (epoch !== this.#epoch || !Number.isInteger(seq) || seq > this.#seq || seq + 1 < oldest) {
        send({ id: this.#cursor(this.#seq), event: 'reset', data: '{"type":"reset","reason":"the page is behind this session; fetch the snapshot again"}' });
      } else {
        for (const event of this.#ring) if (Number(event.id.split('.')[1]) > seq) send(event);
      }
    }
    this.#subscribers.add(send);
    return () => this.#subscribers.delete(send);
  }

  /** Returns how many subscribers are connected. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Detaches from the follower and drops the subscribers. */
  close(): void {
    for (const detach of this.#detach.splice(0)) detach();
    this.#subscribers.clear();
  }

  #onViewEvent(event: TraceEvent): void {
    if (event.type === 'request') {
      this.#publish('request', JSON.stringify(event));
      this.#publishState();
    } else if (event.type === 'turn') {
      this.#publish('turn', JSON.stringify(event));
      this.#publishState();
    } else if (event.type === 'reset') {
      this.#publish('reset', JSON.stringify(event));
    } else {
      this.#publishState();
    }
  }

  #cursor(seq: number): string {
    return `${this.#epoch}.${seq}`;
  }

  #publishState(): void {
    this.#publish('state', JSON.stringify({ ...this.view.state(), now: Date.now() }));
  }

  #publish(event: LiveEvent['event'], data: string): void {
    const frame: LiveEvent = { id: this.#cursor(++this.#seq), event, data };
    this.#ring.push(frame);
    if (this.#ring.length > this.#ringSize) this.#ring.shift();
    for (const send of this.#subscribers) {
      try {
        send(frame);
      } catch {
        // A subscriber whose socket failed is removed by its own close handler.
      }
    }
  }
}
