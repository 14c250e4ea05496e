/**
 * `--response-file F`: the response read from a regular file (deleted once the response is in
 * the log) or from a pipe (`<(…)`, `/dev/stdin`, a fifo), which is read and never deleted. The
 * open never blocks (O_NONBLOCK: a fifo nobody writes to gives end of file at once), and
 * reading a pipe is bounded by `--timeout`.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, unlinkSync, type Stats } from 'node:fs';
import { TimeoutError, UsageError } from '../errors.js';
import { describeFileType, MAX_LINE_BYTES } from '../log-file/index.js';
import { decodeUtf8 } from '../protocol/index.js';
import { clearLongTimeout, setLongTimeout } from '../time/long-timeout.js';
import { shown } from './parse-options.js';

/** A response file that was read. */
export interface ResponseFile {
  text: string;
  /**
   * Deletes the file when it is the regular file that was read (not a link to it, not a pipe,
   * not a file put in its place since).
   * @returns a sentence saying why it could not be deleted, or undefined.
   */
  remove(): string | undefined;
}

/**
 * Reads `--response-file`.
 * @returns its text and a way to delete it.
 * @throws UsageError when it cannot be opened or is neither a regular file nor a pipe,
 *   InvalidUtf8Error, TimeoutError when a pipe does not end within `timeoutMs`.
 */
export async function readResponseFile(file: string, timeoutMs: number | undefined): Promise<ResponseFile> {
  let fd: number;
  try {
    // Links are followed for reading (harmless); never for deleting, see remove().
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead(file, err);
  }
  let stats: Stats;
  try {
    stats = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw cannotRead(file, err);
  }
  if (stats.isFile()) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(fd);
    } catch (err) {
      throw cannotRead(file, err);
    } finally {
      closeSync(fd);
    }
    return { text: decodeUtf8(bytes), remove: () => removeIfRead(file, stats) };
  }
  if (!stats.isFIFO() && !stats.isSocket()) {
    closeSync(fd);
    throw new UsageError(`--response-file ${shown(file)} is ${describeFileType(stats)}; pass a regular file or a pipe`);
  }
  const bytes = await readPipe(fd, file, timeoutMs);
  if (bytes.length === 0) {
    throw new UsageError(`--response-file ${shown(file)} is a pipe that ended without a byte (a fifo nobody wrote to?); pass the response in a regular file`);
  }
  return { text: decodeUtf8(bytes), remove: () => undefined };
}

function cannotRead(file: string, err: unknown): UsageError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new UsageError(`cannot read --response-file ${shown(file)} (${reason}); pass an existing file`);
}

function removeIfRead(file: string, read: Stats): string | undefined {
  try {
    const now = lstatSync(file);
    if (!now.isFile() || now.ino !== read.ino || now.dev !== read.dev) return undefined;
    unlinkSync(file);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    return `could not delete --response-file ${shown(file)} (${code ?? (err as Error).message}); the response is in the log`;
  }
}

/** Reads a pipe to its end through the event loop (the descriptor is non-blocking), within `timeoutMs`. */
function readPipe(fd: number, file: string, timeoutMs: number | undefined): Promise<Buffer> {
  // Loaded only here (getBuiltinModule: the standalone executable has no import()): the
  // anti-call of a regular file, every turn, does without node:net.
  const { Socket } = process.getBuiltinModule('node:net');
  return new Promise((resolve, reject) => {
    const socket = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setLongTimeout(() => {
            socket.destroy();
            reject(new TimeoutError(`--response-file ${shown(file)} did not end within ${timeoutMs / 1000} s (a pipe whose writer is still open); close it, or raise --timeout`, timeoutMs));
          }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_LINE_BYTES) {
        socket.destroy(new UsageError(`--response-file ${shown(file)} gave more than ${MAX_LINE_BYTES} bytes, more than one log line can hold`));
        return;
      }
      chunks.push(chunk);
    });
    socket.on('end', () => {
      clearLongTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', (err) => {
      clearLongTimeout(timer);
      reject(err instanceof UsageError ? err : cannotRead(file, err));
    });
  });
}
