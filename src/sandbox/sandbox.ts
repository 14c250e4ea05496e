/** What a sandbox command returned. */
export interface SandboxRunResult {
  /** null when the command was killed before it exited (timeout or signal). */
  exitCode: number | null;
  /** The signal that ended the command, when one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface SandboxRunOptions {
  /** The command and everything it started are killed after this many milliseconds. */
  timeoutMs: number;
  /** Added to (and overriding) the sandbox's own environment for this command only. */
  env?: Record<string, string>;
  /** For sandboxes that poll a detached command's state (the reference's check_interval); a local sandbox waits for the exit event instead. */
  checkIntervalMs?: number;
}

/** Either bytes or text to write, or a file on this machine to copy. */
export type UploadSource = { content: string | Uint8Array } | { localPath: string };

/**
 * Where the model service runs: anything that can run a bash command and receive a file.
 * Implement it over your sandbox provider's API; `LocalSandbox` runs on this machine.
 */
export interface Sandbox {
  /** Runs `command` with bash; resolves when it has exited or was killed (a failure is reported, not thrown). */
  run(command: string, options: SandboxRunOptions): Promise<SandboxRunResult>;
  /** Writes `source` to `remotePath` in the sandbox, creating its parent directories. */
  upload(source: UploadSource, remotePath: string): Promise<void>;
}
