/**
 * Whether a process is still there, for the pid file, `stop` and `watch-agent`: on these
 * machines PID 1 does not reap orphans, so a dead process can stay a zombie for ever and `kill(pid, 0)` still
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
 * Returns when process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat),
 * or undefined where /proc cannot tell. A pid is reused after its process dies; the pair (pid,
 * start time) names one process for the life of the machine (psutil identifies processes so).
 */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // After "pid (comm) ", the fields from the state (field 3) on are separated by single spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/** Returns the arguments process `pid` was started with (argv[0] first), or undefined where /proc cannot tell. */
export function processCommandLine(pid: number): string[] | undefined {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  const args = cmdline.split('\0');
  if (args.at(-1) === '') args.pop();
  return args;
}

/** Returns whether this machine has a /proc that describes processes (Linux). */
export function hasProcFs(): boolean {
  return processStartTime(process.pid) !== undefined;
}
