/** `rock model-service status`: what runs, where, and what its log says, one `key: value` per line. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { dataDirFromEnv } from '../../config/defaults.js';
import { LOG_FILE_NAME } from '../../protocol/markers.js';
import { openScanner } from '../../scanner/index.js';
import { KindMask, RecordKind } from '../../scanner/types.js';
import { httpRequest } from '../http-request.js';
import { serviceAddress } from '../service-address.js';
import { pidFilePath, runningPid } from '../service-files.js';
import { writeStdoutSync } from '../write-stdout.js';

export interface StatusOptions {
  json?: boolean;
}

type Status = Record<string, string | number | boolean | null>;

/**
 * Prints the status; it works, and says "not running", when no service runs.
 * @throws NativeUnavailableError (after printing everything else) when ROCK_MS_SCANNER=native cannot load.
 */
export async function status(options: StatusOptions): Promise<void> {
  const pid = runningPid(pidFilePath());
  const { url, record } = serviceAddress(undefined, undefined);
  const logFile = record?.logFile ?? join(dataDirFromEnv(), LOG_FILE_NAME);
  const out: Status = {
    status: pid === undefined ? 'not running' : 'running',
    pid: pid ?? null,
    address: pid === undefined ? null : url,
    health: pid === undefined ? null : await health(url),
    log: logFile,
    log_size: fileSize(logFile),
  };
  let scannerError: unknown;
  try {
    Object.assign(out, readLog(logFile));
  } catch (err) {
    scannerError = err;
    out.scanner = 'unavailable';
  }
  writeStdoutSync(options.json ? `${JSON.stringify(out)}\n` : Object.entries(out).map(([k, v]) => `${k}: ${v ?? '-'}\n`).join(''));
  if (scannerError !== undefined) throw scannerError;
}

async function health(url: string): Promise<string> {
  try {
    const answer = await httpRequest('GET', `${url}/health`, undefined, 2000);
    return answer.status === 200 ? 'healthy' : `unhealthy (HTTP ${answer.status})`;
  } catch (err) {
    return `unreachable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}

function fileSize(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

/** The latest lines, read backwards: the cost follows the recent bytes, not the log size. */
function readLog(logFile: string): Status {
  const scanner = openScanner(logFile);
  try {
    const latest = scanner.findLast(KindMask.Request | KindMask.SessionEnd);
    const latestRequest = latest?.kind === RecordKind.Request ? latest : scanner.findLast(KindMask.Request);
    return {
      latest_request: latestRequest?.index ?? null,
      latest_response: scanner.findLast(KindMask.Response)?.index ?? null,
      session_ended: latest?.kind === RecordKind.SessionEnd,
      scanner: scanner.kind,
    };
  } finally {
    scanner.close();
  }
}
