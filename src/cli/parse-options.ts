/**
 * The flags: strict parsing of numeric values (a typo is a usage error, exit 2, never a silent
 * default), and the anti-call flags in one list for its two parsers, node's parseArgs on the
 * quick path (main.ts) and commander (program.ts), which owns help and usage errors. Plain data,
 * in this module because the quick path loads it anyway: every module costs each turn.
 */
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

/** The anti-call flags as given (strings, checked by the command). */
export interface AntiCallOptions {
  index: string;
  response?: string;
  responseFile?: string;
  timeout?: string;
}

export interface AntiCallFlag {
  /** The flag without its dashes. */
  readonly name: string;
  /** Where its value goes. */
  readonly key: keyof AntiCallOptions;
  /** Its value in help, for example `<n>`. */
  readonly value: string;
  readonly required: boolean;
  readonly description: string;
}

export const ANTI_CALL_FLAGS: readonly AntiCallFlag[] = [
  { name: 'index', key: 'index', value: '<n>', required: true, description: 'index of the previous call; 0 to wait for the first request' },
  { name: 'response', key: 'response', value: '<json>', required: false, description: 'the response to call N (required when N > 0)' },
  {
    name: 'response-file',
    key: 'responseFile',
    value: '<file>',
    required: false,
    description: 'read the response from this file or pipe (a regular file is deleted once the response is in the log)',
  },
  { name: 'timeout', key: 'timeout', value: '<seconds>', required: false, description: 'give up after this long (exit 3); default: wait without limit' },
];
