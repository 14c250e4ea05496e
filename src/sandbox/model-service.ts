import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { InvalidArgumentError, SandboxCommandError, SandboxStateError } from '../errors.js';
import { renderCommand } from './command-template.js';
import { modelServiceConfig, type ModelServiceConfig } from './model-service-config.js';
import type { Sandbox } from './sandbox.js';
import { shellQuote } from './shell-quote.js';

/**
 * A quoted payload above this many bytes goes through a file instead of the command line: Linux
 * refuses a single argument over 128 KiB (MAX_ARG_STRLEN), and quoting can grow a payload.
 */
export const RESPONSE_FILE_THRESHOLD_BYTES = 100 * 1024;

/** Seconds, as in the reference. */
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

const clip = (text: string, max: number, keep: 'head' | 'tail'): string =>
  text.length <= max ? text : keep === 'head' ? `${text.slice(0, max)}…` : `…${text.slice(-max)}`;

/**
 * Drives the model service inside a sandbox, as the reference's `ModelService` does:
 * install → start → watchAgent → antiCallLlm per turn → stop.
 */
export class ModelService {
  readonly sandbox: Sandbox;
  readonly config: Readonly<ModelServiceConfig>;
  private readonly logger: ModelServiceLogger;
  private installed = false;
  private started = false;
  /** A start that failed half-way (killed, health timeout) can leave a service running: stop() must still stop it. */
  private startAttempted = false;

  /** Applies the defaults to `config`; throws ConfigError naming the field that is wrong. */
  constructor(sandbox: Sandbox, config: Partial<ModelServiceConfig> = {}, options: { logger?: ModelServiceLogger } = {}) {
    this.sandbox = sandbox;
    this.config = modelServiceConfig(config);
    this.logger = options.logger ?? console;
  }

  get isInstalled(): boolean {
    return this.installed;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Runs the install command (within installTimeout); throws SandboxCommandError with its output when it fails. */
  async install(): Promise<void> {
    await this.runChecked('installing the model service', this.config.installCmd, this.config.installTimeout);
    this.installed = true;
  }

  /**
   * Exports ROCK_LOGGING_PATH and ROCK_LOGGING_FILE_NAME, stops any running service, then starts one.
   * @throws SandboxStateError before install(); SandboxCommandError with the output when a command fails.
   */
  async start(): Promise<void> {
    if (!this.installed) {
      throw new SandboxStateError('cannot start the model service: it is not installed in this sandbox; call install() first');
    }
    const { loggingPath, loggingFileName } = this.config;
    const command = [
      `mkdir -p ${shellQuote(loggingPath)}`,
      `export ROCK_LOGGING_PATH=${shellQuote(loggingPath)}`,
      `export ROCK_LOGGING_FILE_NAME=${shellQuote(loggingFileName)}`,
      this.config.stopCmd,
      renderCommand(this.config.startCmd, { type: this.config.type }),
    ].join(' && ');
    this.startAttempted = true;
    await this.runChecked('starting the model service', command, this.config.commandTimeout);
    this.started = true;
  }

  /**
   * Stops the service after any start() (a failed one included); when start() was never called, only warns.
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
   * (none for index 0) and waits for the next request.
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
    const command = await this.antiCallCommand(index, responsePayload);
    const stdout = await this.runChecked(`the anti-call for index ${index}`, command, callTimeout, checkInterval);
    return stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  }

  private async antiCallCommand(index: number, responsePayload: string | undefined): Promise<string> {
    // The reference also treats an empty payload as none.
    if (!responsePayload) return renderCommand(this.config.antiCallLlmCmdNoResponse, { index });
    if (Buffer.byteLength(shellQuote(responsePayload)) <= RESPONSE_FILE_THRESHOLD_BYTES) {
      return renderCommand(this.config.antiCallLlmCmd, { index, response_payload: responsePayload });
    }
    const file = posix.join(this.config.responseFileDir, `response-${index}-${randomUUID()}.json`);
    await this.sandbox.upload({ content: responsePayload }, file);
    return renderCommand(this.config.antiCallLlmCmdFile, { index, response_file: file });
  }

  private requireStarted(action: string): void {
    if (!this.started) {
      throw new SandboxStateError(
        `cannot ${action}: the model service is not started in this sandbox; call install() and start() first`,
      );
    }
  }

  private async runChecked(what: string, command: string, timeoutSeconds: number, checkIntervalSeconds?: number): Promise<string> {
    const result = await this.sandbox.run(command, {
      timeoutMs: timeoutSeconds * 1000,
      ...(checkIntervalSeconds === undefined ? {} : { checkIntervalMs: checkIntervalSeconds * 1000 }),
    });
    if (result.exitCode === 0 && !result.timedOut) return result.stdout;
    const how = result.timedOut
      ? `timed out after ${timeoutSeconds} s and was killed`
      : result.exitCode === null
        ? `was killed by ${result.signal ?? 'a signal'}`
        : `exited with code ${result.exitCode}`;
    const output = clip(result.stderr.trim() || result.stdout.trim() || '(no output)', OUTPUT_IN_MESSAGE_CHARS, 'tail');
    throw new SandboxCommandError(
      `${what} failed: the command ${how}.\n  command: ${clip(command, COMMAND_IN_MESSAGE_CHARS, 'head')}\n  output: ${output}`,
      { command, exitCode: result.exitCode, timedOut: result.timedOut, stdout: result.stdout, stderr: result.stderr },
    );
  }
}
