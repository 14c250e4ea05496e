/**
 * Locks that the kernel releases when their process dies, even by SIGKILL: a Unix socket bound
 * to a name. Binding is atomic (a second bind of the same name fails with EADDRINUSE) and the
 * name is freed with the process's last descriptor. Node has no flock(2); this is the one lock
 * held by the kernel that its public API reaches. On Linux the name lives in the abstract
 * namespace, so no file is left behind to go stale; elsewhere it is a socket file in the
 * temporary directory, removed when nothing answers on it any more.
 *
 * Whoever connects to a held lock is told who holds it (`describe`), so a refusal can name the holder.
 */
import { rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// node:net is loaded where it is used (getBuiltinModule: synchronous, and it works in the
// standalone executable, whose CommonJS has no import()): the bundle puts this module in the
// chunk every anti-call turn loads (for the rare takeover of a stale append lock), and a
// built-in imported at the top would be loaded by every turn (node:net costs milliseconds).

/** A lock this process holds. */
export interface SocketLock {
  /** Frees the name (the process's death frees it as well). Idempotent. */
  release(): Promise<void>;
}

const ABSTRACT = process.platform === 'linux';
/** How long a holder has to answer who it is; a wedged holder still holds, it is only not named. */
const ASK_TIMEOUT_MS = 1000;

function address(name: string): string {
  if (ABSTRACT) return `\0rock-model-service:${name}`;
  // Names are short (a kind, a device and an inode number); socket paths hold about 100 bytes.
  return join(tmpdir(), `rock-model-service-${name.replace(/[^\w.-]/g, '_')}.sock`);
}

/**
 * Tries once to take the lock `name`; `describe` gives the text sent to whoever asks who holds it.
 * @returns the held lock, or undefined when another live process holds it.
 * @throws the bind error when the name cannot be bound for another reason (EACCES…).
 */
export async function tryLock(name: string, describe: () => string = () => ''): Promise<SocketLock | undefined> {
  const where = address(name);
  const server = await bind(where, describe);
  if (server !== undefined) return held(server);
  if (ABSTRACT || (await askHolder(name)) !== undefined) return undefined;
  // A socket file nobody answers on was left by a dead process: take its place, once.
  rmSync(where, { force: true });
  const retried = await bind(where, describe);
  return retried && held(retried);
}

/**
 * Asks the holder of `name` who it is.
 * @returns the holder's `describe` text, or undefined when nobody answers (no holder, or a wedged one).
 */
export function askHolder(name: string, timeoutMs = ASK_TIMEOUT_MS): Promise<string | undefined> {
  const { connect } = process.getBuiltinModule('node:net');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(address(name));
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      resolve(hadError || chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function bind(where: string, describe: () => string): Promise<Server | undefined> {
  const { createServer } = process.getBuiltinModule('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.unref();
      socket.on('error', () => undefined);
      socket.setTimeout(ASK_TIMEOUT_MS, () => socket.destroy());
      socket.end(describe());
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(where, () => {
      // The lock must never keep a process alive on its own.
      server.unref();
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}

/** Closing the server frees the name (libuv unlinks a socket file it bound). */
function held(server: Server): SocketLock {
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}
