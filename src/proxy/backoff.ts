import type { ServiceConfig } from '../config/types.js';

/**
 * How long to wait before attempt `attempt + 1` (attempt counts from 1): the initial delay
 * doubled per attempt, times a jitter between 0.75 and 1.25 so that many sandboxes
 * throttled together do not come back together, capped at the maximum delay.
 * @returns milliseconds.
 */
export function retryDelayMs(attempt: number, retry: ServiceConfig['retry'], random: () => number = Math.random): number {
  const base = retry.initialDelayMs * 2 ** (attempt - 1);
  return Math.min(retry.maxDelayMs, Math.round(base * (0.75 + random() * 0.5)));
}
