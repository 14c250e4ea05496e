/**
 * `rock model-service start`: the service in the background (a detached copy of this CLI with
 * `--foreground`), or with `--foreground` in this process. Either way the pid file names it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { START_HEALTH_WAIT_MS } from '../../config/defaults.js';
import type { ServiceConfigInput } from '../../config/resolve.js';
import type { ServiceConfig } from '../../config/types.js';
import { AlreadyRunningError, StartFailedError, UsageError } from '../../errors.js';
import { isStandaloneExecutable } from '../../process/standalone.js';
import { httpRequest, serviceUrl } from '../http-request.js';
import { parseInteger, parseSeconds } from '../parse-options.js';
import { pidFilePath, readServiceRecord, removeServiceFiles, runningPid, writePid, writeServiceRecord } from '../service-files.js';
import { writeStdoutSync } from '../write-stdout.js';

export interface StartOptions {
  type?: string;
  configFile?: string;
  host?: string;
  port?: string;
  proxyBaseUrl?: string;
  retryableStatusCodes?: string;
  requestTimeout?: string;
  recordingFile?: string;
  replayFile?: string;
  foreground?: boolean;
}

const HEALTH_POLL_MS = 50;
const STDERR_TAIL_BYTES = 2048;

/**
 * Starts the service. `args` are this command's own arguments, passed on to the background copy.
 * @throws AlreadyRunningError when the pid file names a live service, ConfigError/UsageError
 *   for bad flags, StartFailedError when the service dies or never becomes healthy.
 */
export async function start(options: StartOptions, args: readonly string[]): Promise<void> {
  const pidFile = pidFilePath();
  const live = runningPid(pidFile);
  if (live !== undefined && live !== process.pid) {
    throw new AlreadyRunningError(
      `the model service is already running (pid ${live}, pid file ${pidFile}); stop it first with \`rock model-service stop\``,
    );
  }
  const config = await resolveConfig(options);
  if (options.foreground) {
    await runInForeground(config, pidFile);
  } else {
    await startInBackground(config, pidFile, args);
  }
}

async function resolveConfig(options: StartOptions): Promise<ServiceConfig> {
  if (options.type !== undefined && options.type !== 'local' && options.type !== 'proxy') {
    throw new UsageError(`--type must be "local" or "proxy", got "${options.type}"`);
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

function parseStatusCodes(text: string): number[] {
  return text.split(',').map((part) => parseInteger('--retryable-status-codes', part, 100, 599));
}

async function runInForeground(config: ServiceConfig, pidFile: string): Promise<void> {
  writePid(pidFile, process.pid);
  try {
    const { runServiceInForeground } = await import('../../server/index.js');
    const server = await runServiceInForeground({ ...config, pidFile });
    // The real port (with --port 0) is known only now.
    writeServiceRecord(pidFile, { pid: process.pid, host: server.host, port: server.port, logFile: config.logFile });
    // The service exits through process.exit() after a graceful stop: the record goes with it.
    process.once('exit', () => removeServiceFiles(pidFile, process.pid));
  } catch (err) {
    removeServiceFiles(pidFile, process.pid);
    throw err;
  }
}

async function startInBackground(config: ServiceConfig, pidFile: string, args: readonly string[]): Promise<void> {
  // The service writes its own log when one is configured; its stdout and stderr (a crash
  // before logging starts) go there too, else beside the pid file, so a failed start can say why.
  const outFile = config.serviceLogFile ?? join(dirname(pidFile), 'service.log');
  mkdirSync(dirname(outFile), { recursive: true });
  const out = openSync(outFile, 'a');
  const outStart = fstatSync(out).size;
  // The standalone executable is the program itself; under Node, the program is the script.
  const program = isStandaloneExecutable() ? [] : [...process.execArgv, process.argv[1]!];
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...program, 'model-service', 'start', ...args, '--foreground'], {
      detached: true,
      stdio: ['ignore', out, out],
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) {
    throw new StartFailedError(`could not start ${process.execPath}; check that Node can run here`);
  }
  writePid(pidFile, pid);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
  });
  // With --port 0 only the service knows its port: it records it beside the pid file.
  const url = (): string | undefined => {
    if (config.port !== 0) return serviceUrl(config.host, config.port);
    const record = readServiceRecord(pidFile, pid);
    return record && serviceUrl(record.host, record.port);
  };
  let reached: string;
  try {
    reached = await waitHealthy(url, () => exited, () => tail(outFile, outStart));
  } catch (err) {
    if (exited === undefined) child.kill('SIGKILL');
    removeServiceFiles(pidFile, pid);
    throw err;
  }
  child.unref();
  writeStdoutSync(`model service started: pid ${pid}, ${reached} (${config.type} mode, log ${config.logFile})\n`);
}

async function waitHealthy(url: () => string | undefined, exited: () => string | undefined, outputTail: () => string): Promise<string> {
  const deadline = Date.now() + START_HEALTH_WAIT_MS;
  for (;;) {
    const how = exited();
    if (how !== undefined) {
      throw new StartFailedError(`the model service stopped (${how}) before it became healthy: ${outputTail() || 'it printed nothing'}`);
    }
    const base = url();
    try {
      if (base !== undefined && (await httpRequest('GET', `${base}/health`, undefined, 1000)).status === 200) return base;
    } catch {
      // Not listening yet.
    }
    if (Date.now() >= deadline) {
      throw new StartFailedError(
        `the model service did not answer ${base ?? 'on its port'}/health within ${START_HEALTH_WAIT_MS / 1000} s and was stopped; its output: ${outputTail() || 'none'}`,
      );
    }
    await sleep(HEALTH_POLL_MS);
  }
}

function tail(file: string, from: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
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
