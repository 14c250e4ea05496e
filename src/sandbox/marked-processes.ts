import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process escapes its process group with `setsid` (or `nohup … &` into a new session), so a
 * sandbox cannot find what it started by group alone. Every command it runs carries a marker in
 * its environment instead, which children inherit across setsid and double forks; Linux shows a
 * process's initial environment in /proc/<pid>/environ. A process that starts afresh with a
 * cleared environment (`env -i`) is not found this way.
 */

/** Rounds of scan-and-kill: a process forking while it is killed leaves children for the next round. */
const MAX_ROUNDS = 50;

/**
 * SIGKILLs every process other than this one whose initial environment holds `entry`
 * ("NAME=value"), scanning /proc again until a scan finds none (or after MAX_ROUNDS).
 * Synchronous, so it can run in an exit handler.
 * @returns how many processes were killed (0 where /proc cannot be read).
 */
export function killMarkedProcesses(entry: string): number {
  const marker = Buffer.from(`\0${entry}\0`);
  let killed = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const found = markedPids(marker);
    if (found.length === 0) break;
    for (const pid of found) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // ESRCH: it exited meanwhile.
      }
    }
  }
  return killed;
}

function markedPids(marker: Buffer): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${name}/environ`);
    } catch {
      // Gone, or another user's process (which cannot carry our marker).
      continue;
    }
    // A zombie's environ reads empty: it is dead already.
    const first = marker.subarray(1);
    if (environ.subarray(0, first.length).equals(first) || environ.includes(marker)) found.push(pid);
  }
  return found;
}
