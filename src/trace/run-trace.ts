/**
 * `rock model-service trace FILE`: reads a trace file record by record into a SessionView and
 * writes what it shows as it goes (text, JSON lines or an HTML page), waiting for the output
 * to drain between batches, so a log of gigabytes streams through in bounded memory and its
 * first turns appear at once. With `follow`, it then keeps reading what the log gains.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { InvalidArgumentError, LogNotFoundError } from '../errors.js';
import { LogFollower } from '../follower/log-follower.js';
import { openScanner } from '../scanner/index.js';
import type { TraceEvent } from './model.js';
import { HtmlPageWriter } from './page.js';
import { TextRenderer } from './render-text.js';
import { SessionView } from './session-view.js';
import { readToEnd, TraceReader } from './trace-reader.js';

/** Where the trace goes: a stream with back-pressure. */
export interface TraceOutput {
  write(text: string): void;
  /** Resolves once buffered output has drained (at once when nothing waits). */
  drain(): Promise<void> | void;
  /** True once the reader went away (EPIPE): stop reading. */
  readonly closed: boolean;
}

export interface TraceRunOptions {
  format: 'text' | 'json' | 'html';
  color?: boolean;
  full?: boolean;
  follow?: boolean;
  /** Ends a follow. */
  signal?: AbortSignal;
}

/** What was traced. */
export interface TraceSummary {
  turns: number;
  ended: boolean;
  skipped: number;
}

type Sink = (event: TraceEvent) => void;

function sinkFor(options: TraceRunOptions, out: TraceOutput, path: string, summary: TraceSummary): { sink: Sink; finish: () => void } {
  if (options.format === 'json') {
    return {
      sink: (event) => {
        if (event.type !== 'request') out.write(`${JSON.stringify(event)}\n`);
      },
      finish: () => {},
    };
  }
  if (options.format === 'html') {
    const page = new HtmlPageWriter();
    let endedAt: number | undefined;
    out.write(page.start(`trace: ${basename(path)}`, path));
    return {
      sink: (event) => {
        if (event.type === 'turn') out.write(page.turn(event));
        else if (event.type === 'session_end') endedAt = event.at;
      },
      finish: () => out.write(page.end({ ended: summary.ended, skipped: summary.skipped, ...(endedAt !== undefined ? { endedAt } : {}) })),
    };
  }
  const renderer = new TextRenderer({ color: options.color === true, full: options.full === true });
  return { sink: (event) => out.write(renderer.render(event)), finish: () => {} };
}

/**
 * Traces `path` into `out`; resolves when the file is read (or, with `follow`, when the signal aborts).
 * @throws LogNotFoundError when the file does not exist (without `follow`); InvalidArgumentError when it is
 *   a directory or not a trace; the scanner's I/O errors.
 */
export async function runTrace(path: string, options: TraceRunOptions, out: TraceOutput): Promise<TraceSummary> {
  let size = 0;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InvalidArgumentError(`${path} is a directory; give the log file in it (LLMService.log) or a JSONL trace`);
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (!options.follow) throw new LogNotFoundError(`${path} does not exist; give an LLMService.log, an LLMTraj.jsonl or a proxy recording`);
  }
  if (options.follow && options.format === 'html') {
    throw new InvalidArgumentError('--html writes a finished page and cannot --follow; drop one of them (the service\'s live page follows a session)');
  }
  const summary: TraceSummary = { turns: 0, ended: false, skipped: 0 };
  const view = new SessionView();
  const reader = new TraceReader(view, path);
  const { sink, finish } = sinkFor(options, out, path, summary);
  view.onEvent((event) => {
    if (event.type === 'turn') summary.turns++;
    else if (event.type === 'session_end') summary.ended = true;
    else if (event.type === 'skipped') summary.skipped++;
    else if (event.type === 'reset') Object.assign(summary, { turns: 0, ended: false, skipped: 0 });
    sink(event);
  });
  const scanner = openScanner(path);
  let offset: number;
  try {
    offset = await readToEnd(scanner, reader, 0, () => out.drain(), () => out.closed);
  } catch (err) {
    scanner.close();
    throw err;
  }
  if (!options.follow || out.closed) {
    scanner.close();
    if (reader.format === undefined && size > 0 && summary.skipped > 0) {
      throw new InvalidArgumentError(`${path} is not a trace: no line is a log record (LLM_REQUEST_START…) or a JSON object`);
    }
    view.finish();
    finish();
    return summary;
  }
  await follow(path, scanner, reader, view, offset, options.signal, out);
  return summary;
}

/** Feeds what the log gains until `signal` aborts or the output closes; rejects on an error the follower reports. */
function follow(
  path: string,
  scanner: ReturnType<typeof openScanner>,
  reader: TraceReader,
  view: SessionView,
  fromOffset: number,
  signal: AbortSignal | undefined,
  out: TraceOutput,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const follower = new LogFollower(path, { scanner, fromOffset });
    // The follower's timers are unref'd; this one keeps the process alive while it follows.
    const alive = setInterval(() => {
      if (out.closed) stop();
    }, 1000);
    const stop = (err?: unknown): void => {
      clearInterval(alive);
      signal?.removeEventListener('abort', onAbort);
      follower.close();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => stop();
    follower.onRecords((batch, batchScanner) => {
      try {
        reader.feed(batch, batchScanner);
      } catch (err) {
        stop(err);
      }
    });
    follower.onReset((reason) => {
      reader.reset();
      view.reset(reason);
    });
    follower.onError((err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') stop(err);
    });
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', onAbort, { once: true });
    follower.poke();
  });
}
