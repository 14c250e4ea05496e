/** `rock model-service trace FILE`: a session log, trajectory or recording shown as a conversation. */
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { openRegularFile } from '../../log-file/index.js';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { colorWanted } from '../../trace/render-text.js';
import { runTrace, type TraceOutput } from '../../trace/run-trace.js';

export interface TraceOptions {
  json?: boolean;
  html?: string;
  follow?: boolean;
  full?: boolean;
}

/** A stream as a TraceOutput: write() never blocks; drain() waits while the stream's buffer is full; EPIPE closes it quietly. */
class StreamOutput implements TraceOutput {
  #full = false;
  #closed = false;
  #error: unknown;

  constructor(readonly stream: Writable) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.#closed = true;
      if (err.code !== 'EPIPE') this.#error = err;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The write error other than EPIPE, if one happened. */
  get error(): unknown {
    return this.#error;
  }

  write(text: string): void {
    if (!this.#closed && text !== '' && !this.stream.write(text)) this.#full = true;
  }

  async drain(): Promise<void> {
    if (!this.#full || this.#closed) return;
    this.#full = false;
    const stream = this.stream;
    await new Promise<void>((resolve) => {
      // The error itself is kept by the listener the constructor added.
      const done = (): void => {
        stream.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      stream.on('drain', done).on('close', done).on('error', done);
    });
  }
}

/**
 * Prints the trace of `file` (or writes the page with --html); with --follow, until Ctrl-C.
 * @throws UsageError for --json with --html; what runTrace throws; the output's write error.
 */
export async function trace(file: string, options: TraceOptions): Promise<void> {
  if (options.json && options.html !== undefined) throw new UsageError('--json and --html each choose the output; give one of them');
  let output: StreamOutput;
  let fileStream: WriteStream | undefined;
  if (options.html !== undefined) {
    // Written without following a final symbolic link, and only into a regular file.
    const fd = openRegularFile(options.html, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 'the --html file');
    fileStream = createWriteStream('', { fd });
    output = new StreamOutput(fileStream);
  } else {
    output = new StreamOutput(process.stdout);
  }
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  if (options.follow) process.once('SIGINT', onSigint);
  try {
    const summary = await runTrace(
      file,
      {
        format: options.json ? 'json' : options.html !== undefined ? 'html' : 'text',
        color: colorWanted(process.env, process.stdout.isTTY === true),
        full: options.full === true,
        follow: options.follow === true,
        signal: abort.signal,
      },
      output,
    );
    if (fileStream) {
      fileStream.end();
      await once(fileStream, 'close');
      process.stderr.write(`wrote ${options.html}: ${summary.turns} turns${summary.ended ? ', SESSION_END' : ''}${summary.skipped ? `, ${summary.skipped} lines skipped` : ''}\n`);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (fileStream && !fileStream.closed) fileStream.destroy();
  }
  if (output.error !== undefined) throw output.error;
}
