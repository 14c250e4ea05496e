/** Strict parsing of numeric flags: a typo is a usage error (exit 2), never a silent default. */
import { UsageError } from '../errors.js';

/** The longest wait a flag may ask for: 100 years. Timers chain past Node's 2^31-1 ms (src/time/long-timeout.ts). */
export const MAX_SECONDS = 100 * 365.25 * 24 * 3600;

/** Returns `text` in double quotes with control characters escaped, so that an echoed value never moves the terminal. */
export function quoted(text: string): string {
  return JSON.stringify(text);
}

/** Returns a path as it is, or quoted with escapes when it holds control characters that would reach the terminal raw. */
export function shown(path: string): string {
  return /[\u0000-\u001f\u007f-\u009f]/.test(path) ? quoted(path) : path;
}

/** Returns `--index` as a whole number >= 0 whose next index is exact too. @throws UsageError otherwise. */
export function parseIndex(text: string): number {
  const value = /^\+?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(`--index must be a whole number >= 0 (the previous turn's index, 0 to start), got ${quoted(text)}`);
  }
  if (!Number.isSafeInteger(value + 1)) {
    throw new UsageError(`--index must be at most ${Number.MAX_SAFE_INTEGER - 1} (the turn after it needs an exact index too), got ${quoted(text)}`);
  }
  return value;
}

/** Returns a positive duration in seconds (fractions allowed), at most MAX_SECONDS. @throws UsageError otherwise. */
export function parseSeconds(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} must be a number of seconds > 0, got ${quoted(text)}`);
  }
  if (value > MAX_SECONDS) {
    throw new UsageError(`${flag} must be at most ${MAX_SECONDS} seconds (100 years), got ${quoted(text)}; leave it out to wait without limit`);
  }
  return value;
}

/** Returns a whole number in [min, max]. @throws UsageError otherwise. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\+?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${quoted(text)}`);
  }
  return value;
}
