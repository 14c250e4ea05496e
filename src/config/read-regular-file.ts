import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { describeFileType } from '../log-file/append.js';

/** Why a file could not be read, in words that finish "<what> <path> ...". */
export type ReadRefusal = { reason: string };

/**
 * Reads a whole file, but only a regular one of at most `maxBytes`. It is opened non-blocking,
 * so a fifo with no writer is refused at once instead of hanging the caller, and its size is
 * checked before anything is read.
 * @returns the bytes, or a refusal whose reason names the file type, the size and the bound.
 */
export async function readRegularFile(path: string, maxBytes: number = Infinity): Promise<Buffer | ReadRefusal> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { reason: `cannot be read (${code === 'ENOENT' ? 'no such file' : (err as Error).message})` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { reason: `is not a regular file (it is ${describeFileType(stat)})` };
    if (stat.size > maxBytes) return { reason: `is ${stat.size} bytes, more than the ${maxBytes} bytes allowed` };
    const bytes = await handle.readFile();
    // It may have grown since the stat.
    if (bytes.length > maxBytes) return { reason: `is more than the ${maxBytes} bytes allowed` };
    return bytes;
  } catch (err) {
    return { reason: `cannot be read (${(err as Error).message})` };
  } finally {
    await handle.close();
  }
}
