/**
 * One data dir, one service (and one pid file, one service): a service holds a lock on each
 * directory it owns for its whole life, and a second service is refused with a message that
 * names the holder. The lock is a socket lock (socket-lock.ts), so the kernel frees it when the
 * holder dies, even by SIGKILL: nothing stale can block the next start. Measured here: loading
 * node:net and taking it cost 3–10 ms on a loaded 2-core machine, once per service start.
 */
import { statSync } from 'node:fs';
import { AlreadyRunningError } from '../errors.js';
import { askHolder, tryLock, type SocketLock } from './socket-lock.js';

/** Who holds a directory. */
export interface DirHolder {
  pid: number;
  /** The holder's working directory (where its pid file is). */
  cwd: string;
  /** When it took the directory (ISO 8601). */
  since: string;
}

/** Attempts when the holder vanishes between the failed bind and the question (it just died). */
const ATTEMPTS = 4;

/** The directories this process holds, each with the purposes it holds it for ("the data dir"…). */
const heldHere = new Map<string, { lock: SocketLock; purposes: Set<string>; holder: DirHolder }>();
/** The taking under way per name: two takings in this process run one after the other. */
const takings = new Map<string, Promise<SocketLock>>();

/** The directory itself, however it is reached (symbolic links, bind mounts of one file system). */
function lockName(dir: string): string {
  const stats = statSync(dir);
  return `dir:${stats.dev}:${stats.ino}`;
}

/**
 * Holds the existing directory `dir` for this process; `what` names it in messages ("the data
 * dir") and is the purpose it is held for. A directory this process holds for another purpose
 * (a pid file kept in the data dir) is shared; for the same purpose it is refused, as for another
 * process: two services in one process must not share a data dir either.
 * @returns the held lock.
 * @throws AlreadyRunningError naming the holder when another process holds it; the stat(2)
 *   error when `dir` does not exist.
 */
export async function lockDir(dir: string, what: string): Promise<SocketLock> {
  const name = lockName(dir);
  const taking = (takings.get(name) ?? Promise.resolve()).catch(() => undefined).then(() => take(name, dir, what));
  takings.set(name, taking);
  try {
    return await taking;
  } finally {
    if (takings.get(name) === taking) takings.delete(name);
  }
}

async function take(name: string, dir: string, what: string): Promise<SocketLock> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const mine = heldHere.get(name);
    if (mine !== undefined) {
      if (mine.purposes.has(what)) throw heldError(what, dir, mine.holder);
      mine.purposes.add(what);
      return purposeRelease(name, what);
    }
    const me: DirHolder = { pid: process.pid, cwd: process.cwd(), since: new Date().toISOString() };
    const lock = await tryLock(name, () => JSON.stringify(me));
    if (lock !== undefined) {
      heldHere.set(name, { lock, purposes: new Set([what]), holder: me });
      return purposeRelease(name, what);
    }
    const holder = parseHolder(await askHolder(name));
    if (holder !== undefined) throw heldError(what, dir, holder);
  }
  throw new AlreadyRunningError(
    `${what} ${dir} is in use by another model service that does not say which (it may be stuck); stop it first, or give this service another directory`,
  );
}

/**
 * Checks, without taking it, that no other process holds `dir` (a quick refusal before a
 * service is launched; only lockDir decides).
 * @throws AlreadyRunningError naming the holder.
 */
export async function refuseIfHeld(dir: string, what: string): Promise<void> {
  let name: string;
  try {
    name = lockName(dir);
  } catch {
    return;
  }
  const mine = heldHere.get(name);
  if (mine !== undefined) {
    if (mine.purposes.has(what)) throw heldError(what, dir, mine.holder);
    return;
  }
  const holder = parseHolder(await askHolder(name));
  if (holder !== undefined) throw heldError(what, dir, holder);
}

function heldError(what: string, dir: string, holder: DirHolder): AlreadyRunningError {
  return new AlreadyRunningError(
    `${what} ${dir} is in use by the model service pid ${holder.pid} (working dir ${holder.cwd}, since ${holder.since}); ` +
      `stop it first (\`rock model-service stop\` in ${holder.cwd}, or kill ${holder.pid}), or give this service another directory`,
  );
}

function purposeRelease(name: string, what: string): SocketLock {
  let released = false;
  return {
    async release() {
      const entry = heldHere.get(name);
      if (released || entry === undefined) return;
      released = true;
      entry.purposes.delete(what);
      if (entry.purposes.size > 0) return;
      heldHere.delete(name);
      await entry.lock.release();
    },
  };
}

function parseHolder(text: string | undefined): DirHolder | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<DirHolder>;
    return typeof value.pid === 'number' && typeof value.cwd === 'string' && typeof value.since === 'string' ? (value as DirHolder) : undefined;
  } catch {
    return undefined;
  }
}
