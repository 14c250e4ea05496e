/**
 * Argument checks shared by the TypeScript engine and LogScanner, so that both reject the
 * same values with the same error (the native addon applies the same rules in C++).
 */
import { InvalidArgumentError } from '../errors.js';
import { ALL_KINDS } from './types.js';

/** Default `maxRecords` of a scan (types.ts). */
export const DEFAULT_MAX_RECORDS = 65536;

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Returns `offset` when it is a byte offset (a safe integer >= 0); throws InvalidArgumentError otherwise. */
export function checkOffset(offset: unknown, what = 'offset'): number {
  if (!isOffset(offset)) {
    throw new InvalidArgumentError(`${what} must be an integer from 0 to 2^53-1, got ${String(offset)}`);
  }
  return offset;
}

/** Returns the batch limits with defaults applied; throws InvalidArgumentError for a limit that is not a positive integer or a searchFrom that is not an offset. */
export function checkLimits(options: { maxBytes?: number; maxRecords?: number; searchFrom?: number } | undefined): {
  maxBytes: number;
  maxRecords: number;
  searchFrom: number;
} {
  const maxBytes = options?.maxBytes;
  const maxRecords = options?.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (maxBytes !== undefined && !(isOffset(maxBytes) && maxBytes > 0)) {
    throw new InvalidArgumentError(`maxBytes must be a positive integer (or omitted for no limit), got ${String(maxBytes)}`);
  }
  if (!(isOffset(maxRecords) && maxRecords > 0 && maxRecords <= 0x7fffffff)) {
    throw new InvalidArgumentError(`maxRecords must be an integer from 1 to 2^31-1, got ${String(maxRecords)}`);
  }
  const searchFrom = options?.searchFrom === undefined ? 0 : checkOffset(options.searchFrom, 'searchFrom');
  return { maxBytes: maxBytes ?? Number.POSITIVE_INFINITY, maxRecords, searchFrom };
}

/** Returns `mask` when it is a non-empty combination of KindMask bits; throws InvalidArgumentError otherwise. */
export function checkKindMask(mask: unknown): number {
  if (typeof mask !== 'number' || !Number.isInteger(mask) || mask <= 0 || (mask & ~ALL_KINDS) !== 0) {
    throw new InvalidArgumentError(`kindMask must combine KindMask bits (for example KindMask.Request | KindMask.SessionEnd), got ${String(mask)}`);
  }
  return mask;
}
