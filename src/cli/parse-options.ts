/** Strict parsing of numeric flags: a typo is a usage error (exit 2), never a silent default. */
import { UsageError } from '../errors.js';

/** Returns `--index` as a whole number >= 0. @throws UsageError otherwise. */
export function parseIndex(text: string): number {
  const value = /^\+?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(`--index must be a whole number >= 0 (the previous turn's index, 0 to start), got "${text}"`);
  }
  return value;
}

/** Returns a positive duration in seconds (fractions allowed). @throws UsageError otherwise. */
export function parseSeconds(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} must be a number of seconds > 0, got "${text}"`);
  }
  return value;
}

/** Returns a whole number in [min, max]. @throws UsageError otherwise. */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = /^\+?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}
