import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, constants, createReadStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, open, realpath, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, SandboxCommandError } from '../errors.js';
import { clearLongTimeout, setLongTimeout } from '../time/long-timeout.js';
import { killMarkedProcesses } from './marked-processes.js';
import type { Sandbox, SandboxRunOptions, SandboxRunResult, UploadSource } from './sandbox.js';
import { shellQuote } from './shell-quote.js';

/**
 * Every process a LocalSandbox starts carries `ROCK_LOCAL_SANDBOX_<sandbox id>=1` in its environment
 * (see marked-processes.ts), and `ROCK_LOCAL_RUN_<command id>=1` to find what one command
 * started when it times out. The id is in the name, so a sandbox made inside another keeps the outer marker.
 */
const markerName = (kind: 'SANDBOX' | 'RUN'): string => `ROCK_LOCAL_${kind}_${randomUUID().replaceAll('-', '')}`;

/** This package's CLI; the same relative place from `src/sandbox/` and from the bundle's `dist/<dir>/` (scripts/bundle.mjs). */
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
  /** Put this package's `rock` first on PATH (default true); false to test an installed one. */
  rockOnPath?: boolean;
}

/**
 * A sandbox that is a directory on this machine: commands run with bash in `workDir`, in a process
 * group of their own, with this package's `rock` binary first on PATH, ROCK_MODEL_SERVICE_DATA_DIR
 * at `<workDir>/data/logs` and TMPDIR at `<workDir>/.local-sandbox/tmp` unless `env` sets them.
 * It keeps track of everything its commands start, so that a timeout kills all a command started
 * and close() all the sandbox started, background jobs and `setsid` escapes included.
 */
export class LocalSandbox implements Sandbox {
  readonly workDir: string;
  /** The environment every command starts with. */
  readonly env: Readonly<Record<string, string>>;
  private readonly ownsWorkDir: boolean;
  /** The name of the variable in the environment of everything this sandbox starts. */
  private readonly markerName: string;
  /** Process group leader → the name of the command's own marker. */
  private readonly running = new Map<number, string>();

  /** Creates the work directory (when not given) and the `rock` shim; throws when the directory cannot be made. */
  constructor(options: LocalSandboxOptions = {}) {
    this.ownsWorkDir = options.workDir === undefined;
    this.workDir = this.ownsWorkDir ? mkdtempSync(join(tmpdir(), 'rock-sandbox-')) : resolve(options.workDir!);
    mkdirSync(this.workDir, { recursive: true });
    const binDir = join(this.workDir, '.local-sandbox', 'bin');
    const tmpDir = join(this.workDir, '.local-sandbox', 'tmp');
    mkdirSync(binDir, { recursive: true });
    mkdirSync(tmpDir, { recursive: true });
    const shim = `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(ROCK_BIN)} "$@"\n`;
    for (const name of ['rock', 'rock-model-service']) {
      writeFileSync(join(binDir, name), shim);
      chmodSync(join(binDir, name), 0o755);
    }
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    this.markerName = markerName('SANDBOX');
    const env: Record<string, string> = {
      ...inherited,
      ROCK_MODEL_SERVICE_DATA_DIR: join(this.workDir, 'data', 'logs'),
      TMPDIR: tmpDir,
      ...options.env,
      [this.markerName]: '1',
    };
    if (options.rockOnPath ?? true) env.PATH = env.PATH ? `${binDir}:${env.PATH}` : binDir;
    this.env = Object.freeze(env);
  }

  /**
   * The absolute path on this machine of `sandboxPath`: an absolute path as it is, a relative one
   * inside `workDir`.
   * @throws InvalidArgumentError for a relative path that leads out of `workDir` (`../x`).
   */
  resolvePath(sandboxPath: string): string {
    if (isAbsolute(sandboxPath)) return sandboxPath;
    const target = join(this.workDir, sandboxPath);
    if (!isInside(this.workDir, target)) {
      throw new InvalidArgumentError(`the sandbox path ${JSON.stringify(sandboxPath)} leads out of the sandbox directory ${this.workDir}; give a path inside it, or an absolute one`);
    }
    return target;
  }

  /**
   * Runs `command` with bash in `workDir`; on timeout the whole process group is killed.
   * @returns exit code (null when killed), signal, whether it timed out, and its output as UTF-8.
   * @throws SandboxCommandError when bash cannot be started at all (for example a command over the kernel's argument limit).
   */
  run(command: string, options: SandboxRunOptions): Promise<SandboxRunResult> {
    return new Promise((resolvePromise, reject) => {
      let child: ChildProcessByStdio<null, Readable, Readable>;
      const runMarker = markerName('RUN');
      try {
        child = spawn('bash', ['-c', command], {
          cwd: this.workDir,
          // The markers last, so that no command's env can drop them.
          env: { ...this.env, ...options.env, [this.markerName]: '1', [runMarker]: '1' },
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
      if (pid !== undefined) this.running.set(pid, runMarker);
      // A timeout past 2^31-1 ms would fire at once with Node's own timer.
      const timer = setLongTimeout(() => {
        timedOut = true;
        if (pid !== undefined) killCommand(pid, runMarker);
      }, options.timeoutMs);
      let settled = false;
      const finish = (): void => {
        if (!exit || settled) return;
        settled = true;
        clearTimeout(drainTimer);
        if (pid !== undefined) this.running.delete(pid);
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
        clearLongTimeout(timer);
        if (pid !== undefined) this.running.delete(pid);
        reject(startFailure(command, error));
      });
      child.once('exit', (code, signal) => {
        clearLongTimeout(timer);
        exit = { code, signal };
        drainTimer = setTimeout(finish, PIPE_DRAIN_GRACE_MS);
      });
      child.once('close', finish);
    });
  }

  /**
   * Writes `source` to `remotePath` (relative paths are inside `workDir`), creating parent
   * directories; a copied file keeps its mode, content is written 0600. It never writes through a
   * symlink: not at the file itself, and for a relative path not at any directory on the way out of `workDir`.
   * @throws InvalidArgumentError for a path out of the sandbox directory or a symlink in the way; the I/O error otherwise.
   */
  async upload(source: UploadSource, remotePath: string): Promise<void> {
    const target = this.resolvePath(remotePath);
    await mkdir(dirname(target), { recursive: true });
    if (!isAbsolute(remotePath) && !isInside(await realpath(this.workDir), await realpath(dirname(target)))) {
      throw new InvalidArgumentError(`the sandbox path ${JSON.stringify(remotePath)} passes through a symlink out of the sandbox directory ${this.workDir}; refusing to write there`);
    }
    const mode = 'localPath' in source ? (await stat(source.localPath)).mode & 0o777 : 0o600;
    let handle: FileHandle | undefined;
    try {
      handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
        throw new InvalidArgumentError(`the sandbox path ${JSON.stringify(remotePath)} is a symlink; refusing to write through it`);
      }
      throw err;
    }
    try {
      await handle.chmod(mode);
      if ('localPath' in source) {
        // The write stream owns the handle from here and closes it, on error too.
        const owned = handle;
        handle = undefined;
        await pipeline(createReadStream(source.localPath), owned.createWriteStream());
      } else {
        await handle.writeFile(source.content);
      }
    } finally {
      await handle?.close();
    }
  }

  /** Kills every command still running and all it started (for a signal handler, say); their `run` calls resolve as killed. */
  killRunning(): void {
    for (const [pid, runMarker] of this.running) killCommand(pid, runMarker);
  }

  /**
   * Kills everything this sandbox ever started that still runs: running commands, background
   * jobs they left (a model service among them), and processes that left their group with setsid.
   * Synchronous, so it can run in an exit handler.
   */
  killAll(): void {
    this.killRunning();
    killMarkedProcesses(`${this.markerName}=1`);
  }

  /** Kills everything the sandbox started (killAll) and removes the work directory when this sandbox created it. */
  async close(): Promise<void> {
    this.killAll();
    if (this.ownsWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }
}

/** Whether `path` is `dir` or lies under it (both absolute, normalised). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
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

/** Kills a command's process group, then whatever it started that left the group. */
function killCommand(pid: number, runMarker: string): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
  killMarkedProcesses(`${runMarker}=1`);
}
