import { readFileSync } from 'node:fs';

/**
 * Returns whether process `pid` is running. A zombie counts as gone: on these machines PID 1
 * does not reap orphans, so a killed service stays a zombie and `kill(pid, 0)` still succeeds
 * (SPEC section 6); only the state letter in /proc/<pid>/stat tells.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    // No /proc (not Linux): kill(pid, 0) is all there is to go on.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !isLinux();
  }
  // The command name is in parentheses and may contain spaces or ')': the state follows the last one.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

function isLinux(): boolean {
  return process.platform === 'linux';
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
