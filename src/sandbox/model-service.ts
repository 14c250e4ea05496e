import { randomUUID } from 'node:crypto';
import { basename, posix } from 'node:path';
import { InvalidArgumentError, SandboxCommandError, SandboxStateError, StartFailedError } from '../errors.js';
import { renderCommand } from './command-template.js';
import { resolveModelServiceConfig, type ModelServiceConfig, type ModelServiceConfigInput } from './model-service-config.js';
import type { Sandbox, SandboxRunResult } from './sandbox.js';
import { shellQuote } from './shell-quote.js';

/**
 * A quoted payload above this many bytes goes through a file instead of the command line: Linux
 * refuses a single argument over 128 KiB (MAX_ARG_STRLEN), and quoting can grow a payload.
 */
export const RESPONSE_FILE_THRESHOLD_BYTES = 100 * 1024;

/** Seconds, as in ROCK. Any positive duration is passed on (a LocalSandbox waits past 2^31-1 ms too). */
export interface AntiCallOptions {
  /** How long the anti-call may wait for the next request; default 600. */
  callTimeout?: number;
  /** Passed to the sandbox for its status polls; default 3. */
  checkInterval?: number;
}

export interface ModelServiceLogger {
  warn(message: string): void;
}

const OUTPUT_IN_MESSAGE_CHARS = 2000;
const COMMAND_IN_MESSAGE_CHARS = 300;
/** The ROCK runtime's default time limit for its custom install command, seconds. */
const CUSTOM_INSTALL_TIMEOUT = 600;
/** How long a clean-up command (removing an upload) may take, seconds. */
const CLEANUP_TIMEOUT = 30;

const clip = (text: string, max: number, keep: 'head' | 'tail'): string =>
  text.length <= max ? text : keep === 'head' ? `${text.slice(0, max)}…` : `…${text.slice(-max)}`;

/** A name for an uploaded file made only of characters that need no quoting. */
const uploadName = (index: number, path: string): string => `${index}-${basename(path).replace(/[^A-Za-z0-9._-]/g, '_')}`;

/**
 * Drives the model service inside a sandbox, as ROCK's `ModelService` does:
 * install → start → watchAgent → antiCallLlm per turn → stop.
 */
export class ModelService {
  readonly sandbox: Sandbox;
  readonly config: Readonly<ModelServiceConfig>;
  private readonly logger: ModelServiceLogger;
  private readonly env: Readonly<Record<string, string>> | undefined;
  private installed = false;
  private started = false;
  /** A start that failed half-way (killed, no answer) can leave a service running: stop() must still stop it. */
  private startAttempted = false;
  /** The private directory for uploads in the sandbox, made on first need. */
  private uploadDir: Promise<string> | undefined;

  /**
   * Applies the defaults to `config` (ROCK's fields and spellings accepted) and warns once, through
   * `logger`, of given fields that take no effect here.
   * @throws ConfigError naming the field that is wrong.
   */
  constructor(sandbox: Sandbox, config: ModelServiceConfigInput = {}, options: { logger?: ModelServiceLogger } = {}) {
    this.sandbox = sandbox;
    const { config: resolved, ignored } = resolveModelServiceConfig(config);
    this.config = resolved;
    this.logger = options.logger ?? console;
    this.env = resolved.runtimeEnvConfig.env;
    if (ignored.length > 0) {
      this.logger.warn(`rock-model-service: ModelServiceConfig fields with no effect here (they configure ROCK's Python runtime): ${ignored.join(', ')}`);
    }
  }

  get isInstalled(): boolean {
    return this.installed;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /**
   * Runs runtimeEnvConfig.customInstallCmd and configIniCmd when given, then the install command
   * (within installTimeout); with installFrom, first uploads the tarballs or the executable into a
   * private directory of the sandbox, and removes them afterwards.
   * @throws SandboxCommandError with its output when a command fails or an upload cannot be made.
   */
  async install(): Promise<void> {
    const { runtimeEnvConfig, configIniCmd, installFrom } = this.config;
    if (runtimeEnvConfig.customInstallCmd) {
      await this.runChecked('the custom install command', runtimeEnvConfig.customInstallCmd, runtimeEnvConfig.installTimeout ?? CUSTOM_INSTALL_TIMEOUT);
    }
    if (configIniCmd !== '') await this.runChecked('the config.ini command', configIniCmd, this.config.commandTimeout);
    if (installFrom === null) {
      await this.runChecked('installing the model service', this.config.installCmd, this.config.installTimeout);
    } else {
      const dir = await this.privateDir();
      const sources = 'tarballs' in installFrom ? installFrom.tarballs : [installFrom.executable];
      const files = sources.map((source, i) => posix.join(dir, uploadName(i + 1, source)));
      try {
        for (const [i, source] of sources.entries()) await this.upload(source, files[i]!);
        const command = renderCommand(this.config.installCmd, { install_files: files, install_bin_dir: this.config.installBinDir });
        await this.runChecked('installing the model service', command, this.config.installTimeout);
      } finally {
        await this.cleanUp(files);
      }
    }
    this.installed = true;
  }

  /**
   * Exports ROCK_LOGGING_PATH and ROCK_LOGGING_FILE_NAME, stops any running service, starts one,
   * then runs the health check: start() succeeds only when the service answers.
   * @throws SandboxStateError before install(); SandboxCommandError with the output when a command
   *   fails; StartFailedError when the commands succeed but the service does not answer.
   */
  async start(): Promise<void> {
    if (!this.installed) {
      throw new SandboxStateError('cannot start the model service: it is not installed in this sandbox; call install() first');
    }
    const { loggingPath, loggingFileName } = this.config;
    // Each command on lines of its own, so that a `# comment` at the end of stopCmd ends at its line
    // instead of taking the start command with it.
    const command = [
      `mkdir -p ${shellQuote(loggingPath)} && export ROCK_LOGGING_PATH=${shellQuote(loggingPath)} && export ROCK_LOGGING_FILE_NAME=${shellQuote(loggingFileName)} && {`,
      this.config.stopCmd,
      '} && {',
      renderCommand(this.config.startCmd, { type: this.config.type }),
      '}',
    ].join('\n');
    this.startAttempted = true;
    await this.runChecked('starting the model service', command, this.config.commandTimeout);
    const health = await this.run(this.config.healthCheckCmd, this.config.commandTimeout);
    if (health.exitCode !== 0 || health.timedOut) {
      throw new StartFailedError(
        `the start command succeeded but the model service does not answer: the health check ${describeFailure(health, this.config.commandTimeout)}.\n` +
          `  health check: ${clip(this.config.healthCheckCmd, COMMAND_IN_MESSAGE_CHARS, 'head')}\n` +
          `  output: ${outputOf(health)}\n` +
          '  Check startCmd and stopCmd (a stopCmd that exits the shell or hides what follows starts nothing), and the service log at loggingPath.',
      );
    }
    this.started = true;
  }

  /**
   * Stops the service after any start() (a failed one included), then removes the private upload
   * directory; when start() was never called, only warns.
   * @throws SandboxCommandError when the stop command fails.
   */
  async stop(): Promise<void> {
    if (!this.startAttempted) {
      this.logger.warn('rock-model-service: stop() skipped: start() was never called on this ModelService');
      return;
    }
    this.started = false;
    await this.runChecked('stopping the model service', this.config.stopCmd, this.config.commandTimeout);
    this.startAttempted = false;
    const dir = this.uploadDir;
    this.uploadDir = undefined;
    const made = await dir?.catch(() => undefined);
    if (made !== undefined) await this.cleanUp([made], true);
  }

  /**
   * Asks the service to append SESSION_END once process `pid` (in the sandbox) has exited.
   * @throws SandboxStateError before start(); InvalidArgumentError for a pid that is not a positive integer;
   * SandboxCommandError when the command fails.
   */
  async watchAgent(pid: number | string): Promise<void> {
    this.requireStarted('watch the agent');
    const text = String(pid);
    if (!/^[1-9][0-9]*$/.test(text)) {
      throw new InvalidArgumentError(`watchAgent: pid must be a positive integer, got ${JSON.stringify(pid)}`);
    }
    await this.runChecked(`watching agent pid ${text}`, renderCommand(this.config.watchAgentCmd, { pid: text }), this.config.commandTimeout);
  }

  /**
   * One runtime turn: hands `responsePayload` to the agent as the answer to request `index`
   * (none for index 0) and waits for the next request. A payload too long for a command line
   * is uploaded to a file in the private directory; the CLI deletes it once it is appended, and
   * a failed turn removes it.
   * @returns what the CLI printed, without its final newline: the next request's JSON text, or `SESSION_END`.
   * @throws SandboxStateError before start(); InvalidArgumentError for an index that is not a non-negative
   * integer or a timeout that is not positive; SandboxCommandError with the CLI's exit code and output when it fails or passes callTimeout.
   */
  async antiCallLlm(index: number, responsePayload?: string, options: AntiCallOptions = {}): Promise<string> {
    this.requireStarted('run an anti-call');
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new InvalidArgumentError(`antiCallLlm: index must be a non-negative integer, got ${String(index)}`);
    }
    const callTimeout = options.callTimeout ?? 600;
    const checkInterval = options.checkInterval ?? 3;
    if (!(callTimeout > 0 && checkInterval > 0)) {
      throw new InvalidArgumentError(
        `antiCallLlm: callTimeout and checkInterval must be positive numbers of seconds, got ${callTimeout} and ${checkInterval}`,
      );
    }
    // The reference also treats an empty payload as none.
    if (!responsePayload) {
      return this.runAntiCall(index, renderCommand(this.config.antiCallLlmCmdNoResponse, { index }), callTimeout, checkInterval);
    }
    if (Buffer.byteLength(shellQuote(responsePayload)) <= RESPONSE_FILE_THRESHOLD_BYTES) {
      const command = renderCommand(this.config.antiCallLlmCmd, { index, response_payload: responsePayload });
      return this.runAntiCall(index, command, callTimeout, checkInterval);
    }
    const file = posix.join(await this.privateDir(), `response-${index}-${randomUUID()}.json`);
    try {
      await this.sandbox.upload({ content: responsePayload }, file);
      return await this.runAntiCall(index, renderCommand(this.config.antiCallLlmCmdFile, { index, response_file: file }), callTimeout, checkInterval);
    } catch (err) {
      await this.cleanUp([file]);
      throw err;
    }
  }

  private async runAntiCall(index: number, command: string, callTimeout: number, checkInterval: number): Promise<string> {
    const stdout = await this.runChecked(`the anti-call for index ${index}`, command, callTimeout, checkInterval);
    return stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  }

  private requireStarted(action: string): void {
    if (!this.started) {
      throw new SandboxStateError(
        `cannot ${action}: the model service is not started in this sandbox; call install() and start() first`,
      );
    }
  }

  /**
   * The sandbox directory for uploads: made once with `mktemp -d` (a fresh name, mode 0700, never
   * an existing path or symlink someone left there), so no other user of the sandbox can read or
   * replace what goes in it.
   */
  private privateDir(): Promise<string> {
    this.uploadDir ??= (async () => {
      const parent = this.config.responseFileDir;
      const template = 'rock-model-service.XXXXXXXXXX';
      const command =
        parent === ''
          ? `mktemp -d "\${TMPDIR:-/tmp}/${template}"`
          : `mkdir -p ${shellQuote(parent)} && mktemp -d ${shellQuote(posix.join(parent, template))}`;
      const dir = (await this.runChecked('making a private directory for uploads', command, this.config.commandTimeout)).trim();
      if (!posix.isAbsolute(dir) || /[\n\0]/.test(dir)) {
        throw new SandboxCommandError(`mktemp -d printed ${JSON.stringify(dir)}, which is not an absolute directory path`, {
          command,
          exitCode: 0,
          timedOut: false,
          stdout: dir,
          stderr: '',
        });
      }
      return dir;
    })();
    const made = this.uploadDir;
    // A failure is not kept: the next upload tries again.
    made.catch(() => {
      if (this.uploadDir === made) this.uploadDir = undefined;
    });
    return made;
  }

  private async upload(localPath: string, remotePath: string): Promise<void> {
    try {
      await this.sandbox.upload({ localPath }, remotePath);
    } catch (err) {
      throw new SandboxCommandError(`installing the model service failed: could not upload ${localPath} to ${remotePath}: ${(err as Error).message}`, {
        command: `upload ${localPath}`,
        exitCode: null,
        timedOut: false,
        stdout: '',
        stderr: (err as Error).message,
      });
    }
  }

  /** Removes `paths` in the sandbox; a failure is only warned about, as the turn or stop it follows has its own outcome. */
  private async cleanUp(paths: readonly string[], recursive = false): Promise<void> {
    if (paths.length === 0) return;
    const command = ['rm', recursive ? '-rf' : '-f', '--', ...paths.map(shellQuote)].join(' ');
    try {
      const result = await this.run(command, CLEANUP_TIMEOUT);
      if (result.exitCode !== 0) this.logger.warn(`rock-model-service: could not remove ${paths.join(', ')} in the sandbox: ${outputOf(result)}`);
    } catch (err) {
      this.logger.warn(`rock-model-service: could not remove ${paths.join(', ')} in the sandbox: ${(err as Error).message}`);
    }
  }

  private run(command: string, timeoutSeconds: number, checkIntervalSeconds?: number): Promise<SandboxRunResult> {
    return this.sandbox.run(command, {
      timeoutMs: timeoutSeconds * 1000,
      ...(checkIntervalSeconds === undefined ? {} : { checkIntervalMs: checkIntervalSeconds * 1000 }),
      ...(this.env === undefined ? {} : { env: { ...this.env } }),
    });
  }

  private async runChecked(what: string, command: string, timeoutSeconds: number, checkIntervalSeconds?: number): Promise<string> {
    const result = await this.run(command, timeoutSeconds, checkIntervalSeconds);
    if (result.exitCode === 0 && !result.timedOut) return result.stdout;
    throw new SandboxCommandError(
      `${what} failed: the command ${describeFailure(result, timeoutSeconds)}.\n  command: ${clip(command, COMMAND_IN_MESSAGE_CHARS, 'head')}\n  output: ${outputOf(result)}`,
      { command, exitCode: result.exitCode, timedOut: result.timedOut, stdout: result.stdout, stderr: result.stderr },
    );
  }
}

function describeFailure(result: SandboxRunResult, timeoutSeconds: number): string {
  if (result.timedOut) return `timed out after ${timeoutSeconds} s and was killed`;
  return result.exitCode === null ? `was killed by ${result.signal ?? 'a signal'}` : `exited with code ${result.exitCode}`;
}

function outputOf(result: SandboxRunResult): string {
  return clip(result.stderr.trim() || result.stdout.trim() || '(no output)', OUTPUT_IN_MESSAGE_CHARS, 'tail');
}
