/**
 * Runs the real `rock` CLI (`node bin/rock.js`, which runs the bundle in `dist/`) as a child
 * process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ROCK_BIN = join(PROJECT_ROOT, 'bin', 'rock.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to the parent's environment. */
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this long (the result then has signal SIGKILL). Default 20 s. */
  timeoutMs?: number;
}

/** Throws unless `dist/` holds the built CLI (`npm run build`, or `npm test`, builds it). */
export function requireBuiltCli(): void {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: build first with `npm run build`');
  }
}

/** Starts `node bin/rock.js ...args` with piped stdio; the caller waits on it. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [ROCK_BIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves when the child exits, with everything it printed. */
export function collect(child: ChildProcess, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Runs `rock ...args` to completion. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return collect(spawnCli(args, options), options.timeoutMs);
}
