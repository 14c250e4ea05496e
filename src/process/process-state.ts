/**
 * Whether a process is still there, the way SPEC section 6 needs it: on these machines PID 1
 * does not reap orphans, so a dead process can stay a zombie for ever and `kill(pid, 0)` still
 * succeeds on it. The state letter in /proc/<pid>/stat tells a zombie apart.
 * No heavy import here: the CLI (which starts once per turn) and the server
 * both use it.
 */
import { readFileSync } from 'node:fs';

/** Returns true when `pid` names no process, or a zombie (exited, not yet reaped). */
export function isProcessGone(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    // No entry: gone on Linux. Where /proc does not exist (or is unreadable), ask the kernel.
    return !isSignalable(pid);
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, so the state follows the LAST ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}

/** Returns whether process `pid` is running: it exists and is not a zombie. */
export function isProcessRunning(pid: number): boolean {
  return !isProcessGone(pid);
}

function isSignalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Returns false when process `pid` is known to be something other than this program: in a
 * restarted container a stale pid file's number is soon reused by an unrelated process, which
 * must neither block `start` nor receive `stop`'s signals. True when /proc cannot tell.
 */
export function looksLikeModelService(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  return cmdline.includes('model-service') || cmdline.includes('rock');
}
