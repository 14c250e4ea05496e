import { ConfigError } from '../errors.js';
import { MAX_TIMER_MS } from '../time/long-timeout.js';
import type { ServiceConfig } from './types.js';

/**
 * The bounds of every setting, checked once on the resolved config whatever it came from (the
 * file, a flag, the library), so each message names the file key and the flag. The timers that
 * consume durations are Node's own (the proxy's socket timeout and retry sleep), which hold at most
 * 2^31-1 ms: a longer value is refused here rather than firing at once.
 */

/** A config holds a few dozen keys; a bigger file is a wrong path (a 100 MB YAML took 20 s and 3.9 GB to parse). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** Attempts per call, the first included (1e9 with no delay made 6 613 upstream calls in 10 s). */
export const MAX_RETRY_ATTEMPTS = 100;
export const MIN_RECORD_MAX_BYTES = 1024;
/** Each orphan keeps its turn's request translation and answer in memory until a retry claims it. */
export const MAX_ORPHANED_TURNS = 1024;
export const MAX_RECORD_MAX_BYTES = 1024 ** 3;
export const MIN_RESPONSE_LIMIT_BYTES = 1024;
/** A whole answer is read as one string for its record, and Node cannot hold a string over about 512 MiB. */
export const MAX_RESPONSE_LIMIT_BYTES = 256 * 1024 ** 2;

const seconds = (ms: number): string => `${ms / 1000} s`;

function refuse(key: string, flag: string | undefined, rule: string, got: string): never {
  throw new ConfigError(`${key}${flag ? ` (${flag})` : ''} must be ${rule}, got ${got}`, key);
}

function checkDuration(key: string, flag: string | undefined, ms: number, minMs: number, maxMs = MAX_TIMER_MS): void {
  if (!Number.isFinite(ms) || ms < minMs || ms > maxMs) {
    const upTo = maxMs === MAX_TIMER_MS ? `${seconds(MAX_TIMER_MS)} (about 24.8 days)` : seconds(maxMs);
    refuse(key, flag, `a number of seconds from ${seconds(minMs)} to ${upTo}`, Number.isFinite(ms) ? seconds(ms) : String(ms));
  }
}

function checkInteger(key: string, flag: string | undefined, value: number, min: number, max: number, unit = ''): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) refuse(key, flag, `a whole number from ${min} to ${max}${unit}`, String(value));
}

/**
 * Checks every bounded setting of `config`.
 * @throws ConfigError naming the key (and its flag), the bound and the value received.
 */
export function checkServiceConfig(config: ServiceConfig): void {
  checkInteger('port', '--port', config.port, 0, 65535);
  checkInteger('body_limit', undefined, config.bodyLimitBytes, 1, Number.MAX_SAFE_INTEGER, ' bytes');
  checkInteger('record_max_bytes', undefined, config.recordMaxBytes, MIN_RECORD_MAX_BYTES, MAX_RECORD_MAX_BYTES, ' bytes');
  checkInteger('response_limit', undefined, config.responseLimitBytes, MIN_RESPONSE_LIMIT_BYTES, MAX_RESPONSE_LIMIT_BYTES, ' bytes');
  if (config.maxTokensCap !== undefined) checkInteger('max_tokens_cap', undefined, config.maxTokensCap, 1, Number.MAX_SAFE_INTEGER);
  if (config.requestTimeoutMs !== undefined) {
    // Below a millisecond a timer rounds to none at all, and proxy mode then waits for ever. Local
    // calls wait on chained timers (any length); the proxy's socket timeout is one Node timer.
    checkDuration('request_timeout', '--request-timeout', config.requestTimeoutMs, 1, config.type === 'local' ? Number.MAX_SAFE_INTEGER : MAX_TIMER_MS);
  }
  checkDuration('body_timeout', undefined, config.bodyTimeoutMs, 1);
  checkInteger('body budget', undefined, config.bodyBudgetBytes, 1, Number.MAX_SAFE_INTEGER, ' bytes');
  checkDuration('heartbeat_interval', undefined, config.heartbeatIntervalMs, 1);
  checkInteger('max_orphaned_turns', undefined, config.maxOrphanedTurns, 0, MAX_ORPHANED_TURNS);
  checkInteger('responses_store_max', undefined, config.responsesStore.maxResponses, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('responses_store_max_bytes', undefined, config.responsesStore.maxBytes, 0, Number.MAX_SAFE_INTEGER, ' bytes');
  checkDuration('poll interval', undefined, config.pollIntervalMs, 1);
  checkDuration('watch interval', undefined, config.watchIntervalMs, 1);
  checkInteger('retry_max_attempts', undefined, config.retry.maxAttempts, 1, MAX_RETRY_ATTEMPTS);
  checkDuration('retry_initial_delay', undefined, config.retry.initialDelayMs, 0);
  checkDuration('retry_max_delay', undefined, config.retry.maxDelayMs, 0);
  for (const code of config.retryableStatusCodes) {
    if (!Number.isInteger(code) || code < 400 || code > 599) {
      refuse(
        'retryable_status_codes',
        '--retryable-status-codes',
        'error statuses from 400 to 599 (a 1xx, 2xx or 3xx answer retried would call the upstream again and again)',
        JSON.stringify(code),
      );
    }
  }
}
