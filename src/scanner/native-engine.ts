/**
 * The native engine: the C++ addon (native/) behind the ScanEngine contract. The addon does
 * the byte work (mmap or pread, memchr, marker and meta checks) and returns one flat
 * Float64Array per batch; this wrapper only fills in defaults, builds the result object and
 * gives errors their classes.
 *
 * No size threshold hands small scans to the TypeScript engine, because none pays off since
 * the addon stopped allocating per call and naming result properties from C++. Measured per
 * scan call here (Node 20.20, 2 vCPU, best of 12 rounds, tail after a 100 KB prefix), native /
 * TypeScript in us: nothing new 0.68 / 1.15; one 160 B line 1.07 / 2.29; one 2 KB line 1.06 /
 * 2.21; 20 lines of 2 KB 4.2 / 9.9; 100 such lines 17 / 37; one 1 MB line 39 / 50; one 200 KB
 * line 9.6 / 9.6 (both copy it and memchr it).
 */
import { isDeepStrictEqual } from 'node:util';
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_MAX_RECORDS } from './arguments.js';
import { RECORD_LAYOUT, RECORD_STRIDE, RecordKind, recordAt, type LogRecord, type ScanEngine, type ScanOptions, type ScanResult } from './types.js';

/** The record layout as the addon exports it (native/record_layout.h). */
export interface NativeLayout {
  stride: number;
  fields: Record<string, number>;
  kinds: Record<string, number>;
}

/** What the addon exports (native/addon.cc). Change kAbiVersion there and NATIVE_ABI_VERSION here together. */
export interface NativeBinding {
  readonly abiVersion: number;
  /** Whether the addon's SIGBUS guard is installed (a log that shrinks under a mapping is survived). */
  readonly faultGuard: boolean;
  readonly layout: NativeLayout;
  /** Records, then nextOffset, size and searchedTo (SCAN_TRAILER numbers). */
  scan(fd: number, offset: number, maxBytes: number | undefined, maxRecords: number, searchFrom?: number): Float64Array;
  findLast(fd: number, kindMask: number, before: number): Float64Array | null;
}

/** The addon ABI this wrapper speaks; a binary that reports another one is not used. */
export const NATIVE_ABI_VERSION = 3;

/** Numbers after the records of a native scan: nextOffset, size, searchedTo. */
const SCAN_TRAILER = 3;

/** The layout the TypeScript side reads records with, in the shape the addon exports it. */
export const EXPECTED_LAYOUT: NativeLayout = { stride: RECORD_LAYOUT.stride, fields: { ...RECORD_LAYOUT.fields }, kinds: { ...RecordKind } };

/** Returns why `value` cannot be used as the addon, or null when it can. */
export function bindingProblem(value: unknown): string | null {
  const b = value as Partial<NativeBinding> | null;
  if (b === null || typeof b !== 'object') return 'the module exports no object';
  if (typeof b.scan !== 'function' || typeof b.findLast !== 'function') {
    return 'the module is not the rock-model-service scanner (scan/findLast missing)';
  }
  if (b.abiVersion !== NATIVE_ABI_VERSION) {
    return `the binary speaks scanner ABI ${String(b.abiVersion)}, this package needs ${NATIVE_ABI_VERSION}; rebuild it (npm run build) or reinstall the platform package`;
  }
  if (!isDeepStrictEqual(b.layout, EXPECTED_LAYOUT)) {
    return `the binary's record layout ${JSON.stringify(b.layout)} differs from this package's ${JSON.stringify(EXPECTED_LAYOUT)}; rebuild it (npm run build) or reinstall the platform package`;
  }
  if (b.faultGuard !== true) {
    return 'the binary could not install its SIGBUS handler, so a log that shrinks while it is scanned would kill the process';
  }
  return null;
}

/** Turns the addon's plain errors into the package's classes; I/O errors keep their errno code. */
function rethrow(err: unknown): never {
  if (err instanceof Error && (err as { code?: unknown }).code === 'RMS_INVALID_ARGUMENT') {
    throw new InvalidArgumentError(err.message);
  }
  throw err;
}

/** Returns a ScanEngine backed by `binding` (already checked with bindingProblem). */
export function createNativeEngine(binding: NativeBinding): ScanEngine {
  return {
    kind: 'native',
    scan(fd: number, offset: number, options?: ScanOptions): ScanResult {
      let r: Float64Array;
      try {
        r = binding.scan(fd, offset, options?.maxBytes, options?.maxRecords ?? DEFAULT_MAX_RECORDS, options?.searchFrom);
      } catch (err) {
        rethrow(err);
      }
      const n = r.length - SCAN_TRAILER;
      return { records: r, count: n / RECORD_STRIDE, nextOffset: r[n]!, size: r[n + 1]!, searchedTo: r[n + 2]! };
    },
    findLast(fd: number, kindMask: number, before?: number): LogRecord | null {
      let r: Float64Array | null;
      try {
        r = binding.findLast(fd, kindMask, before ?? -1);
      } catch (err) {
        rethrow(err);
      }
      return r === null ? null : recordAt({ records: r }, 0);
    },
  };
}
