/** What /proc says about a process: its memory and CPU time, read from outside, as `top` would. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Returns the fields of /proc/<pid>/stat from the state (field 3 of stat(5), at [0]) on, or
 * undefined once the process is gone. They start after the last ')': the command name may hold spaces and parentheses.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A field of /proc/<pid>/status in bytes; NaN once the process is gone. */
function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return NaN;
  }
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Returns the resident set of `pid` in bytes now (NaN once it is gone). */
export function rssBytes(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Returns the largest resident set `pid` has had since it started, in bytes (the kernel's high-water mark; NaN once it is gone). */
export function peakRssBytes(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Returns the CPU time `pid` has used so far (user + system), in seconds; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of stat(5).
  return fields ? (Number(fields[14 - 3]) + Number(fields[15 - 3])) / CLOCK_TICKS_PER_SECOND : NaN;
}

/** Samples the resident set of `pid` every `everyMs` until stopped; `stop()` returns the largest seen, in bytes. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let max = 0;
  const take = (): void => {
    const now = rssBytes(pid);
    if (now > max) max = now;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return max;
    },
  };
}

/** Returns when `pid` started, in clock ticks since boot (field 22 of stat(5)), or undefined once it is gone. */
export function startTicks(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[22 - 3]) : undefined;
}

/** Returns the pids of processes running `model-service start … --foreground` whose working directory is one of `cwds`. */
export function serviceProcessesIn(cwds: readonly string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('model-service');
      if (at < 0 || argv[at + 1] !== 'start' || !argv.includes('--foreground')) continue;
      if (cwds.includes(readlinkSync(`/proc/${entry}/cwd`)) && statFields(Number(entry))?.[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
