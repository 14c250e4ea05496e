/**
 * The files through which CLI invocations find the service they started: the reference's pid
 * file (`data/cli/model/pid.txt`, relative to the working directory, the pid alone) and, beside
 * it, `service.json` with the address and log of that pid, so that `status` and `watch-agent`
 * reach a service started on another port without being told.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PID_FILE } from '../config/defaults.js';
import { isProcessRunning, looksLikeModelService } from '../process/process-state.js';

export interface ServiceRecord {
  pid: number;
  host: string;
  port: number;
  logFile: string;
}

/** Returns the absolute pid file path for the current working directory. */
export function pidFilePath(): string {
  return resolve(PID_FILE);
}

function recordPath(pidFile: string): string {
  return join(dirname(pidFile), 'service.json');
}

/** Returns the pid the pid file names, or undefined when there is none or it holds no pid. */
export function readPid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Returns the pid of the running service the pid file names, or undefined (no file, stale pid, zombie, a reused pid). */
export function runningPid(pidFile: string): number | undefined {
  const pid = readPid(pidFile);
  return pid !== undefined && isProcessRunning(pid) && looksLikeModelService(pid) ? pid : undefined;
}

/** Writes the pid file (and its directory). */
export function writePid(pidFile: string, pid: number): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
}

/** Writes the address and log of the service `record.pid` beside the pid file. */
export function writeServiceRecord(pidFile: string, record: ServiceRecord): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(recordPath(pidFile), `${JSON.stringify(record)}\n`);
}

/** Returns what the service `pid` recorded about itself, or undefined when the record is missing or another pid's. */
export function readServiceRecord(pidFile: string, pid: number): ServiceRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(recordPath(pidFile), 'utf8')) as ServiceRecord;
    return record.pid === pid ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the pid file and the service record, but only while they still name `pid` (another start may own them by now). */
export function removeServiceFiles(pidFile: string, pid: number): void {
  if (readPid(pidFile) === pid) rmSync(pidFile, { force: true });
  if (readServiceRecord(pidFile, pid) !== undefined) rmSync(recordPath(pidFile), { force: true });
}
