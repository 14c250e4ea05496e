/**
 * Traces a big generated log with the real CLI and measures what the user sees: when the first
 * turn is printed, how long the whole file takes, and the CLI's resident memory over time
 * (sampled from /proc), so that a reader holding the file, or growing with it, shows.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { ROCK_BIN } from '../../helpers/cli.js';
import { writeAgentSession } from './agent-session.js';

export interface LargeLogFigures {
  logBytes: number;
  writeMs: number;
  firstTurnMs: number;
  totalMs: number;
  turns: number;
  sessionEnd: boolean;
  /** RSS samples (MiB) in order, every `SAMPLE_MS`. */
  rssMiB: number[];
  peakRssMiB: number;
  exitCode: number | null;
  stderr: string;
}

const SAMPLE_MS = 25;

function rssMiB(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `turns` turns of about `bytes / turns` each to `path`, then traces it with `--json`. */
export async function traceLargeLog(path: string, turns: number, bytes: number): Promise<LargeLogFigures> {
  const started = Date.now();
  // A compacting agent: requests grow to `compactAt` and fall back, averaging about half of it.
  writeAgentSession(path, { turns, toolOutputBytes: 4096, compactAt: Math.round((2.1 * bytes) / turns) });
  const writeMs = Date.now() - started;
  const t0 = performance.now();
  const child = spawn(process.execPath, [ROCK_BIN, 'model-service', 'trace', '--json', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const rss: number[] = [];
  const sampler = setInterval(() => {
    const value = rssMiB(child.pid!);
    if (value !== undefined) rss.push(value);
  }, SAMPLE_MS);
  let firstTurnMs = -1;
  let count = 0;
  let sessionEnd = false;
  let rest = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{"type":"turn"')) {
        if (count++ === 0) firstTurnMs = performance.now() - t0;
      } else if (line.startsWith('{"type":"session_end"')) {
        sessionEnd = true;
      }
    }
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  return {
    logBytes: statSync(path).size,
    writeMs,
    firstTurnMs,
    totalMs: performance.now() - t0,
    turns: count,
    sessionEnd,
    rssMiB: rss,
    peakRssMiB: Math.max(...rss),
    exitCode,
    stderr,
  };
}

/** The highest RSS in the second half of the samples minus the highest in the first half (MiB): growth with the file read. */
export function rssGrowth(samples: readonly number[]): number {
  const half = Math.floor(samples.length / 2);
  return Math.max(...samples.slice(half)) - Math.max(...samples.slice(0, half));
}
