/**
 * Whether a process is gone, the way SPEC section 6 needs it: on these machines PID 1 does
 * not reap orphans, so a dead agent can stay a zombie for ever and `kill(pid, 0)` still
 * succeeds on it. The state letter in /proc/<pid>/stat tells a zombie apart.
 * No fastify or other heavy import here: the CLI uses it too.
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

function isSignalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
