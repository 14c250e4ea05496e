/**
 * The service log (docs/cli.md): `$ROCK_LOGGING_PATH/$ROCK_LOGGING_FILE_NAME` when both are
 * set, else stderr. pino writes one JSON object a line; on a terminal the same records are
 * printed as human-readable lines (ISO time, level name, message, fields).
 */
import { constants, mkdirSync } from 'node:fs';
import { openRegularFile } from '../log-file/index.js';
import { dirname } from 'node:path';
import pino from 'pino';
import { ConfigError } from '../errors.js';
import { formatLogLine } from './pretty-line.js';

/** The part of a pino logger the service uses. */
export interface Logger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** The levels `log_level` and `ROCK_MS_LOG_LEVEL` accept, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Returns `level` when pino knows it.
 * @throws ConfigError listing the accepted levels.
 */
export function checkLogLevel(level: string, source: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigError(`${source} is ${JSON.stringify(level)}, which is not a log level; use one of ${LOG_LEVELS.join(', ')}`, source);
}

/**
 * Returns the service's logger: JSON lines to `file` (its directory is created), else to
 * stderr (human-readable when stderr is a terminal). Writes are synchronous, so the last
 * lines before an exit are never lost.
 */
export function createLogger(level: LogLevel, file: string | undefined): Logger {
  if (file !== undefined) {
    // ROCK_LOGGING_PATH may not exist yet in a fresh sandbox.
    mkdirSync(dirname(file), { recursive: true });
    // Never through a final symbolic link: the service often runs as root.
    const fd = openRegularFile(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 'the service log');
    return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: fd, sync: true }));
  }
  if (process.stderr.isTTY) {
    return pino({ level, base: undefined }, { write: (line: string) => void process.stderr.write(formatLogLine(line)) });
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
