/**
 * The files through which CLI invocations find the service they started: the reference's pid
 * file (`data/cli/model/pid.txt`, relative to the working directory, the pid alone) and, beside
 * it, `service.json`, which says exactly which process that pid is (its start time), how to
 * reach it, and what log it writes, so that `status` and `watch-agent` reach a service started
 * on another port without being told, and `stop` never signals a process that is not ours.
 *
 * Both files are replaced, never written through a link, and read without following one: the
 * service often runs as root.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PID_FILE } from '../config/defaults.js';
import { readRegularFileSync, replaceRegularFile } from '../log-file/index.js';
import { hasProcFs, isProcessRunning, processCommandLine, processStartTime } from '../process/process-state.js';

export interface ServiceRecord {
  pid: number;
  /** processStartTime(pid) when the service wrote the record: with the pid, it names exactly one process. */
  startTime: number | null;
  /** The token the service's /health reports as `start_token`. */
  startToken: string;
  host: string;
  /** null until the service listens. */
  port: number | null;
  logFile: string;
  dataDir: string;
  /** The service's working directory. */
  cwd: string;
  version: string;
}

/** A live service of ours that the pid file names. */
export interface RunningService {
  pid: number;
  record: ServiceRecord;
}

/** Returns the absolute pid file path for the current working directory. */
export function pidFilePath(): string {
  return resolve(PID_FILE);
}

function recordPath(pidFile: string): string {
  return join(dirname(pidFile), 'service.json');
}

/** Returns the pid the pid file names, or undefined when there is none, it holds no pid, or it is not a regular file. */
export function readPid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = readRegularFileSync(pidFile, 'the pid file', 64);
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Returns what the service `pid` recorded about itself, or undefined when the record is missing, unreadable or another pid's. */
export function readServiceRecord(pidFile: string, pid: number): ServiceRecord | undefined {
  try {
    const record = JSON.parse(readRegularFileSync(recordPath(pidFile), 'the service record')) as ServiceRecord;
    return record.pid === pid && typeof record.startToken === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the service record, then the pid file (and their directory), each replaced whole.
 * @throws UnsafePathError when either path holds a link or anything but a regular file; the file system's error.
 */
export function writeServiceFiles(pidFile: string, record: ServiceRecord): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  replaceRegularFile(recordPath(pidFile), `${JSON.stringify(record)}\n`, 'the service record');
  replaceRegularFile(pidFile, `${record.pid}\n`, 'the pid file');
}

/** Removes the pid file and the service record, but only while they still name `pid` (another start may own them by now). */
export function removeServiceFiles(pidFile: string, pid: number): void {
  if (readServiceRecord(pidFile, pid) !== undefined) rmSync(recordPath(pidFile), { force: true });
  if (readPid(pidFile) === pid) rmSync(pidFile, { force: true });
}

/**
 * Returns the live service the pid file names, or undefined: no pid file, a dead or zombie
 * process, a reused pid (another start time), or a process whose command is not a model
 * service's (a pid file naming /opt/rocketmq/bin/mqbroker is never taken for ours).
 */
export function runningService(pidFile: string): RunningService | undefined {
  const pid = readPid(pidFile);
  if (pid === undefined || !isProcessRunning(pid)) return undefined;
  const record = readServiceRecord(pidFile, pid);
  if (record === undefined || !isSameProcess(pid, record.startTime)) return undefined;
  const argv = processCommandLine(pid);
  if (argv === undefined ? hasProcFs() : !isServiceCommand(argv)) return undefined;
  return { pid, record };
}

/** Returns whether `pid` is still the process that started at `startTime` (true where /proc cannot tell). */
export function isSameProcess(pid: number, startTime: number | null): boolean {
  if (!isProcessRunning(pid)) return false;
  if (!hasProcFs()) return true;
  return startTime !== null && processStartTime(pid) === startTime;
}

/**
 * Returns whether `argv` runs a model service: `… model-service start … --foreground` (how
 * `start` launches it, and how a user runs it in the foreground), or the same through the
 * `rock-model-service` binary.
 */
export function isServiceCommand(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length - 1; i++) {
    const group = argv[i] === 'model-service' || /^rock-model-service(\.[cm]?js)?$/.test(basename(argv[i]!));
    if (group && argv[i + 1] === 'start') return argv.slice(i + 2).includes('--foreground');
  }
  return false;
}
