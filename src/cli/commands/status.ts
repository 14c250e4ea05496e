/** `rock model-service status`: what runs, where, and what its log says, one `key: value` per line. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { dataDirFromEnv } from '../../config/defaults.js';
import { describeFileType } from '../../log-file/index.js';
import { isHealthOf } from '../../process/service-health.js';
import { LOG_FILE_NAME } from '../../protocol/markers.js';
import { getScanEngine, openScanner, type ScanEngine } from '../../scanner/index.js';
import { scannerStatus } from '../../scanner/load.js';
import { KindMask, RecordKind } from '../../scanner/types.js';
import { VERSION } from '../../version.js';
import { httpRequest } from '../http-request.js';
import { shown } from '../parse-options.js';
import { serviceAddress } from '../service-address.js';
import type { ServiceRecord } from '../service-files.js';
import { writeStdoutSync } from '../write-stdout.js';

export interface StatusOptions {
  json?: boolean;
}

type Status = Record<string, string | number | boolean | null>;

/**
 * Prints the status; it works, and says "not running", when no service runs. A log that cannot
 * be read (a fifo, a directory…) is named in `log_error`; it never blocks the command.
 * @throws NativeUnavailableError (after printing everything else) when ROCK_MS_SCANNER=native cannot load.
 */
export async function status(options: StatusOptions): Promise<void> {
  const { url, running } = serviceAddress(undefined, undefined);
  const logFile = running?.record.logFile ?? join(dataDirFromEnv(), LOG_FILE_NAME);
  const out: Status = {
    status: running === undefined ? 'not running' : 'running',
    version: VERSION,
    pid: running?.pid ?? null,
    address: running === undefined ? null : url,
    health: running === undefined ? null : await health(url, running.record),
    log: shown(logFile),
  };
  // The scanner this installation loads, whatever the log is.
  let engine: ScanEngine | undefined;
  let scannerError: unknown;
  try {
    engine = getScanEngine();
  } catch (err) {
    scannerError = err;
  }
  Object.assign(out, readLog(logFile, engine));
  out.scanner = engine?.kind ?? 'unavailable';
  if (engine !== undefined) {
    // Why this installation runs what it runs: the native scanner's fault guard, or why it fell back.
    const scanner = scannerStatus();
    out.scanner_fault_guard = scanner.faultGuard;
    if (scanner.fallback !== undefined) out.scanner_fallback = scanner.fallback;
  }
  writeStdoutSync(options.json ? `${JSON.stringify(out)}\n` : Object.entries(out).map(([k, v]) => `${k}: ${v ?? '-'}\n`).join(''));
  if (scannerError !== undefined) throw scannerError;
}

async function health(url: string, record: ServiceRecord): Promise<string> {
  try {
    const answer = await httpRequest('GET', `${url}/health`, undefined, 2000);
    if (answer.status !== 200) return `unhealthy (HTTP ${answer.status})`;
    return isHealthOf(answer.body, record.pid, record.startToken) ? 'healthy' : `another process answers there (${answer.body.trim().slice(0, 120)})`;
  } catch (err) {
    return `unreachable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}

/** The log's size and latest lines, read backwards: the cost follows the recent bytes, not the log size. */
function readLog(logFile: string, engine: ScanEngine | undefined): Status {
  const state: Status = { log_size: null, log_error: null, latest_request: null, latest_response: null, session_ended: false };
  try {
    const stats = statSync(logFile);
    // Opening a fifo would wait for a writer, and a directory has no lines: say so instead.
    if (!stats.isFile()) return { ...state, log_error: `${describeFileType(stats)}, not a regular file` };
    state.log_size = stats.size;
    if (engine === undefined) return state;
    const scanner = openScanner(logFile, { engine });
    try {
      const latest = scanner.findLast(KindMask.Request | KindMask.SessionEnd);
      const latestRequest = latest?.kind === RecordKind.Request ? latest : scanner.findLast(KindMask.Request);
      state.latest_request = latestRequest?.index ?? null;
      state.latest_response = scanner.findLast(KindMask.Response)?.index ?? null;
      state.session_ended = latest?.kind === RecordKind.SessionEnd;
    } finally {
      scanner.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    state.log_error = code === 'ENOENT' ? 'no log at this path' : code ?? (err as Error).message;
  }
  return state;
}
