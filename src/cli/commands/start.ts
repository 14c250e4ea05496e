/**
 * `rock model-service start`: the service in the background (a detached copy of this CLI with
 * `--foreground`), or with `--foreground` in this process. Either way the service itself holds
 * the pid file's directory and its data dir for its whole life (one service each), writes the
 * pid file and its record, and removes them when it exits; `start` reports success only when the
 * /health answer comes from the child it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { START_HEALTH_WAIT_MS } from '../../config/defaults.js';
import type { ServiceConfigInput } from '../../config/resolve.js';
import type { ServiceConfig } from '../../config/types.js';
import { AlreadyRunningError, StartFailedError, UsageError } from '../../errors.js';
import { openRegularFile } from '../../log-file/index.js';
import { lockDir, refuseIfHeld } from '../../process/dir-lock.js';
import { processStartTime } from '../../process/process-state.js';
import { isHealthOf, START_TOKEN_ENV } from '../../process/service-health.js';
import type { SocketLock } from '../../process/socket-lock.js';
import { isStandaloneExecutable } from '../../process/standalone.js';
import { VERSION } from '../../version.js';
import { httpRequest, serviceUrl } from '../http-request.js';
import { parseInteger, parseSeconds, quoted } from '../parse-options.js';
import { pidFilePath, readServiceRecord, removeServiceFiles, runningService, writeServiceFiles, type ServiceRecord } from '../service-files.js';
import type { StartOptions } from '../start-flags.js';
import { writeStdoutSync } from '../write-stdout.js';


const HEALTH_POLL_MS = 50;
const STDERR_TAIL_BYTES = 2048;

/**
 * Starts the service. `args` are this command's own arguments, passed on to the background copy.
 * @throws AlreadyRunningError when the pid file names a live service or another service holds the
 *   pid file's directory or the data dir, ConfigError/UsageError for bad flags, UnsafePathError
 *   when a file to write is a link or not a regular file, StartFailedError when the service dies
 *   or never becomes healthy.
 */
export async function start(options: StartOptions, args: readonly string[]): Promise<void> {
  const pidFile = pidFilePath();
  refuseIfRunning(pidFile);
  const config = await resolveConfig(options);
  if (options.foreground) {
    await runInForeground(config, pidFile);
  } else {
    await startInBackground(config, pidFile, args);
  }
}

async function resolveConfig(options: StartOptions): Promise<ServiceConfig> {
  if (options.type !== undefined && options.type !== 'local' && options.type !== 'proxy') {
    throw new UsageError(`--type must be "local" or "proxy", got ${quoted(options.type)}`);
  }
  const overrides: ServiceConfigInput = {
    type: options.type as 'local' | 'proxy' | undefined,
    host: options.host,
    port: options.port === undefined ? undefined : parseInteger('--port', options.port, 0, 65535),
    proxyBaseUrl: options.proxyBaseUrl,
    retryableStatusCodes: options.retryableStatusCodes === undefined ? undefined : parseStatusCodes(options.retryableStatusCodes),
    requestTimeoutMs: options.requestTimeout === undefined ? undefined : parseSeconds('--request-timeout', options.requestTimeout) * 1000,
    recordingFile: options.recordingFile,
    replayFile: options.replayFile,
    agentApiMode: options.agentApi === undefined ? undefined : parseAgentApiMode(options.agentApi),
    models: options.model === undefined ? undefined : parseModels(options.model),
    maxTokensCap: options.maxTokensCap === undefined ? undefined : parseInteger('--max-tokens-cap', options.maxTokensCap, 1, Number.MAX_SAFE_INTEGER),
    livePage: options.livePage,
  };
  if (options.configFile === undefined) {
    // Without a file there is nothing for YAML and zod to read: skipping them saves about 20 ms
    // of every service start (measured), which sandboxes pay once each.
    const { resolveServiceConfig } = await import('../../config/resolve.js');
    return resolveServiceConfig(overrides);
  }
  const { loadConfig } = await import('../../config/load.js');
  return loadConfig({ configFile: options.configFile, overrides });
}

function parseAgentApiMode(text: string): 'translated' | 'native' {
  if (text !== 'translated' && text !== 'native') throw new UsageError(`--agent-api must be "translated" or "native", got ${quoted(text)}`);
  return text;
}

function parseModels(text: string): string[] {
  const models = text.split(',').map((name) => name.trim());
  if (models.some((name) => name === '')) throw new UsageError(`--model must be comma-separated model names, got ${quoted(text)}`);
  return models;
}

function parseStatusCodes(text: string): number[] {
  return text.split(',').map((part) => parseInteger('--retryable-status-codes', part, 100, 599));
}

function refuseIfRunning(pidFile: string): void {
  const live = runningService(pidFile);
  if (live !== undefined && live.pid !== process.pid) {
    throw new AlreadyRunningError(
      `the model service is already running (pid ${live.pid}, pid file ${pidFile}); stop it first with \`rock model-service stop\``,
    );
  }
}

async function runInForeground(config: ServiceConfig, pidFile: string): Promise<void> {
  const pidDir = dirname(pidFile);
  mkdirSync(pidDir, { recursive: true });
  mkdirSync(config.dataDir, { recursive: true });
  // Held until the process ends; the kernel frees them even after SIGKILL.
  const locks: SocketLock[] = [];
  const startToken = process.env[START_TOKEN_ENV] || randomToken();
  // /health reports the token; a service started by hand gets one too, for `status` to check.
  process.env[START_TOKEN_ENV] = startToken;
  const record: ServiceRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? null,
    startToken,
    host: config.host,
    port: null,
    logFile: config.logFile,
    dataDir: config.dataDir,
    cwd: process.cwd(),
    version: VERSION,
  };
  try {
    // The data dir is the service's own lock (startServer takes it); this one guards the pid file.
    locks.push(await lockDir(pidDir, 'the pid file directory'));
    // Under the lock, the pid file can change no more: a service started without it would show here.
    refuseIfRunning(pidFile);
    writeServiceFiles(pidFile, record);
    // The service exits through process.exit() after a graceful stop: its files go with it.
    process.once('exit', () => removeServiceFiles(pidFile, process.pid));
    const { runServiceInForeground } = await import('../../server/index.js');
    const server = await runServiceInForeground(config);
    // The real port (with --port 0) is known only now; `start` waits for this record.
    writeServiceFiles(pidFile, { ...record, host: server.host, port: server.port });
  } catch (err) {
    removeServiceFiles(pidFile, process.pid);
    for (const lock of locks) await lock.release();
    throw err;
  }
}

async function startInBackground(config: ServiceConfig, pidFile: string, args: readonly string[]): Promise<void> {
  // Quick refusals that name the holder; the child's own lock decides a race.
  await refuseIfHeld(dirname(pidFile), 'the pid file directory');
  await refuseIfHeld(config.dataDir, 'the data dir');
  // The service writes its own log when one is configured; its stdout and stderr (a crash
  // before logging starts) go there too, else beside the pid file, so a failed start can say why.
  const outFile = config.serviceLogFile ?? join(dirname(pidFile), 'service.log');
  mkdirSync(dirname(outFile), { recursive: true });
  const out = openRegularFile(outFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 'the service log');
  const outStart = fstatSync(out).size;
  // The standalone executable is the program itself; under Node, the program is the script.
  const program = isStandaloneExecutable() ? [] : [...process.execArgv, process.argv[1]!];
  const startToken = randomToken();
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...program, 'model-service', 'start', ...args, '--foreground'], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, [START_TOKEN_ENV]: startToken },
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) {
    throw new StartFailedError(`could not start ${process.execPath}; check that Node can run here`);
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
  });
  // Only the child's own record, written once it listens, says where to ask: a 200 from
  // another service on the configured port proves nothing.
  const url = (): string | undefined => {
    const record = readServiceRecord(pidFile, pid);
    return record?.startToken === startToken && record.port !== null ? serviceUrl(record.host, record.port) : undefined;
  };
  let reached: string;
  try {
    reached = await waitHealthy(url, pid, startToken, () => exited, () => tail(outFile, outStart));
  } catch (err) {
    if (exited === undefined) child.kill('SIGKILL');
    removeServiceFiles(pidFile, pid);
    throw err;
  }
  child.unref();
  writeStdoutSync(`model service started: pid ${pid}, ${reached} (${config.type} mode, log ${config.logFile})\n`);
}

function randomToken(): string {
  return randomBytes(16).toString('hex');
}

/** Resolves with the address once the service `pid` started with `token` answers /health there. */
async function waitHealthy(
  url: () => string | undefined,
  pid: number,
  token: string,
  exited: () => string | undefined,
  outputTail: () => string,
): Promise<string> {
  const deadline = Date.now() + START_HEALTH_WAIT_MS;
  let otherAnswer: string | undefined;
  for (;;) {
    const how = exited();
    if (how !== undefined) {
      throw new StartFailedError(`the model service stopped (${how}) before it became healthy: ${outputTail() || 'it printed nothing'}`);
    }
    const base = url();
    if (base !== undefined) {
      try {
        const answer = await httpRequest('GET', `${base}/health`, undefined, 1000);
        if (answer.status === 200 && isHealthOf(answer.body, pid, token)) return base;
        otherAnswer = `HTTP ${answer.status} ${answer.body.trim().slice(0, 200)}`;
      } catch {
        // Not answering yet.
      }
    }
    if (Date.now() >= deadline) {
      const other = otherAnswer === undefined ? '' : ` (what answered there is not the service started: ${otherAnswer})`;
      throw new StartFailedError(
        `the model service did not answer ${base ?? 'on its port'}/health within ${START_HEALTH_WAIT_MS / 1000} s and was stopped${other}; its output: ${outputTail() || 'none'}`,
      );
    }
    await sleep(HEALTH_POLL_MS);
  }
}

function tail(file: string, from: number): string {
  let fd: number;
  try {
    fd = openRegularFile(file, constants.O_RDONLY, 'the service log');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - STDERR_TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString('utf8').trim();
  } finally {
    closeSync(fd);
  }
}
