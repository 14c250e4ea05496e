/** The `rock` CLI as the sandbox runs it: a new process per command, in a working directory of its own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { statFields } from './proc.js';
import { run, type Finished } from './processes.js';
import { ROCK_BIN } from './project.js';

export interface CliPlace {
  /** Working directory (the pid file is relative to it). */
  cwd: string;
  /** ROCK_MODEL_SERVICE_DATA_DIR. */
  dataDir: string;
}

function env(place: CliPlace): NodeJS.ProcessEnv {
  return { ...process.env, ROCK_MODEL_SERVICE_DATA_DIR: place.dataDir };
}

/** Runs `rock model-service <args>` to its end (killed after `timeoutMs`). */
export function rock(place: CliPlace, args: string[], timeoutMs = 60_000): Promise<Finished> {
  return run(process.execPath, [ROCK_BIN, 'model-service', ...args], { cwd: place.cwd, env: env(place), timeoutMs });
}

/** Starts `rock model-service <args>` and leaves it running; the caller ends it by its pid. */
export function spawnRock(place: CliPlace, args: string[]): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, [ROCK_BIN, 'model-service', ...args], { cwd: place.cwd, env: env(place), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  return { child, output: () => output };
}

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** The state letter of a process from /proc (R, S, Z…), or 'gone'. */
export function processState(pid: number): string {
  return statFields(pid)?.[0] ?? 'gone';
}
