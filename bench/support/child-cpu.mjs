// CPU time of finished child processes, for benches that start many short ones: on a machine
// that other work shares, wall time swings with the load, CPU time much less.
import { readFileSync } from 'node:fs';

// Linux reports it in clock ticks of 10 ms (getconf CLK_TCK is 100 here): one sample is coarse,
// the mean over a run's samples is not.
const TICK_MS = 10;

/** Returns the CPU ms (user + system) of every child this process has waited for, so far. */
export function childCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime); the slice starts at field 3.
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** The mean of `xs`. */
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
