import type { ServiceConfig } from '../config/types.js';

/**
 * How long to wait before attempt `attempt + 1` (attempt counts from 1): the initial delay
 * doubled per attempt, times a jitter between 0.75 and 1.25 so that many sandboxes
 * throttled together do not come back together, at least what the upstream asked for
 * with Retry-After, and never more than the maximum delay.
 * @returns milliseconds.
 */
export function retryDelayMs(attempt: number, retry: ServiceConfig['retry'], retryAfterMs = 0, random: () => number = Math.random): number {
  // Past 2^1023 the doubling is Infinity, and Infinity × a zero initial delay is NaN: stop doubling
  // once any delay of a millisecond or more is past every possible maximum.
  const doublings = Math.min(Math.max(attempt - 1, 0), 64);
  const base = retry.initialDelayMs * 2 ** doublings;
  return Math.min(retry.maxDelayMs, Math.max(retryAfterMs, Math.round(base * (0.75 + random() * 0.5))));
}

/**
 * Reads a Retry-After header: delay-seconds or an HTTP date.
 * @returns milliseconds to wait, 0 when the header is absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number {
  if (value === undefined) return 0;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}
