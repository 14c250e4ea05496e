import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SandboxCommandError } from '../errors.js';
import type { Sandbox, SandboxRunOptions, SandboxRunResult, UploadSource } from './sandbox.js';
import { shellQuote } from './shell-quote.js';

/** This package's CLI; the same relative place from `src/sandbox/` and `dist/sandbox/`. */
const ROCK_BIN = fileURLToPath(new URL('../../bin/rock.js', import.meta.url));

/**
 * How long a command's output pipes may stay open after its shell exited. A background process
 * that kept them (`agent &` without a redirect) would otherwise hold `run` open for ever.
 */
const PIPE_DRAIN_GRACE_MS = 250;

export interface LocalSandboxOptions {
  /** Where commands run and relative upload paths land. Default: a new temporary directory, removed by `close()`. */
  workDir?: string;
  /** Added to the inherited environment of every command. */
  env?: Record<string, string>;
}

/**
 * A sandbox that is a directory on this machine: commands run with bash in `workDir`, in a process
 * group of their own, with this package's `rock` binary first on PATH and
 * ROCK_MODEL_SERVICE_DATA_DIR at `<workDir>/data/logs` unless `env` sets it.
 */
export class LocalSandbox implements Sandbox {
  readonly workDir: string;
  /** The environment every command starts with. */
  readonly env: Readonly<Record<string, string>>;
  private readonly ownsWorkDir: boolean;
  private readonly runningGroups = new Set<number>();

  /** Creates the work directory (when not given) and the `rock` shim; throws when the directory cannot be made. */
  constructor(options: LocalSandboxOptions = {}) {
    this.ownsWorkDir = options.workDir === undefined;
    this.workDir = this.ownsWorkDir ? mkdtempSync(join(tmpdir(), 'rock-sandbox-')) : resolve(options.workDir!);
    mkdirSync(this.workDir, { recursive: true });
    const binDir = join(this.workDir, '.local-sandbox', 'bin');
    mkdirSync(binDir, { recursive: true });
    const shim = `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(ROCK_BIN)} "$@"\n`;
    for (const name of ['rock', 'rock-model-service']) {
      writeFileSync(join(binDir, name), shim);
      chmodSync(join(binDir, name), 0o755);
    }
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const env: Record<string, string> = { ...inherited, ROCK_MODEL_SERVICE_DATA_DIR: join(this.workDir, 'data', 'logs'), ...options.env };
    env.PATH = env.PATH ? `${binDir}:${env.PATH}` : binDir;
    this.env = Object.freeze(env);
  }

  /** The absolute path on this machine of `sandboxPath` (relative paths are inside `workDir`). */
  resolvePath(sandboxPath: string): string {
    return isAbsolute(sandboxPath) ? sandboxPath : join(this.workDir, sandboxPath);
  }

  /**
   * Runs `command` with bash in `workDir`; on timeout the whole process group is killed.
   * @returns exit code (null when killed), signal, whether it timed out, and its output as UTF-8.
   * @throws SandboxCommandError when bash cannot be started at all (for example a command over the kernel's argument limit).
   */
  run(command: string, options: SandboxRunOptions): Promise<SandboxRunResult> {
    return new Promise((resolvePromise, reject) => {
      let child: ChildProcessByStdio<null, Readable, Readable>;
      try {
        child = spawn('bash', ['-c', command], {
          cwd: this.workDir,
          env: { ...this.env, ...options.env },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        reject(startFailure(command, error as Error));
        return;
      }
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      let timedOut = false;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let drainTimer: NodeJS.Timeout | undefined;
      const pid = child.pid;
      if (pid !== undefined) this.runningGroups.add(pid);
      const timer = setTimeout(() => {
        timedOut = true;
        if (pid !== undefined) killGroup(pid);
      }, options.timeoutMs);
      let settled = false;
      const finish = (): void => {
        if (!exit || settled) return;
        settled = true;
        clearTimeout(drainTimer);
        if (pid !== undefined) this.runningGroups.delete(pid);
        child.stdout.destroy();
        child.stderr.destroy();
        resolvePromise({
          exitCode: exit.code,
          signal: exit.signal,
          timedOut,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        });
      };
      child.once('error', (error) => {
        clearTimeout(timer);
        if (pid !== undefined) this.runningGroups.delete(pid);
        reject(startFailure(command, error));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        exit = { code, signal };
        drainTimer = setTimeout(finish, PIPE_DRAIN_GRACE_MS);
      });
      child.once('close', finish);
    });
  }

  /** Writes `source` to `remotePath` (relative paths are inside `workDir`), creating parent directories; throws on I/O errors. */
  async upload(source: UploadSource, remotePath: string): Promise<void> {
    const target = this.resolvePath(remotePath);
    await mkdir(dirname(target), { recursive: true });
    if ('localPath' in source) await copyFile(source.localPath, target);
    else await writeFile(target, source.content, { mode: 0o600 });
  }

  /** Kills every command still running, with its whole process group (for a signal handler, say); their `run` calls resolve as killed. */
  killRunning(): void {
    for (const pid of this.runningGroups) killGroup(pid);
  }

  /** Kills commands still running and removes the work directory when this sandbox created it. */
  async close(): Promise<void> {
    this.killRunning();
    if (this.ownsWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }
}

function startFailure(command: string, error: Error): SandboxCommandError {
  const hint = (error as NodeJS.ErrnoException).code === 'E2BIG' ? ' (the command is over the kernel\'s argument limit; upload long data as a file)' : '';
  return new SandboxCommandError(`could not start bash for the command: ${error.message}${hint}`, {
    command,
    exitCode: null,
    timedOut: false,
    stdout: '',
    stderr: '',
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}
