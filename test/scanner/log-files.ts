/** What the scanner tests share: the engines to run, temporary logs, and records as plain tuples. */
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableEngines } from '../../src/scanner/load.js';
import { createTsEngine } from '../../src/scanner/ts-engine.js';
import { recordAt, type LogRecord, type ScanEngine, type ScanOptions } from '../../src/scanner/types.js';

export interface NamedEngine {
  name: string;
  engine: ScanEngine;
  /** 64-byte reads: thorough on boundaries, too slow for files of many MiB. */
  smallChunks: boolean;
}

/**
 * Every engine that loads here, plus the TypeScript engine with 64-byte chunks: with those,
 * nearly every line crosses a chunk boundary and takes the long-line path.
 */
export function enginesUnderTest(): NamedEngine[] {
  return [
    ...availableEngines().map((engine) => ({ name: engine.kind, engine, smallChunks: false })),
    { name: 'ts with 64-byte chunks', engine: createTsEngine({ chunkBytes: 64 }), smallChunks: true },
  ];
}

/** A record as `[kind, index, lineStart, payloadStart, payloadEnd, lineEnd]`, for deepEqual. */
export type RecordTuple = [number, number, number, number, number, number];

export function tupleOf(r: LogRecord): RecordTuple {
  return [r.kind, r.index, r.lineStart, r.payloadStart, r.payloadEnd, r.lineEnd];
}

/** Scans from `offset` batch after batch until no complete line is left; returns every record and the final offset. */
export function scanToEnd(engine: ScanEngine, fd: number, offset = 0, options?: ScanOptions): { records: RecordTuple[]; nextOffset: number } {
  const records: RecordTuple[] = [];
  for (;;) {
    const result = engine.scan(fd, offset, options);
    for (let i = 0; i < result.count; i++) records.push(tupleOf(recordAt(result, i)));
    if (result.nextOffset === offset) return { records, nextOffset: offset };
    offset = result.nextOffset;
  }
}

/**
 * Writes `content` to a new file in `dir` and opens it for reading.
 * @returns what `body` returns for the descriptor and the path; the descriptor is closed after.
 */
export function withLog<T>(dir: string, content: string | Buffer, body: (fd: number, path: string) => T): T {
  const path = join(dir, `log-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  try {
    return body(fd, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Returns what `fn` made this process read from files: the bytes of read(2)/pread(2)
 * (/proc/self/io `rchar`) plus 4 KiB per minor page fault (a mapped page touched). Null where
 * /proc/self/io does not exist. A count of bytes examined, not of time, so a loaded machine
 * does not change it.
 */
export function bytesRead(fn: () => void): number | null {
  if (!existsSync('/proc/self/io')) return null;
  const rchar = (): number => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
  const r0 = rchar();
  const f0 = process.resourceUsage().minorPageFault;
  fn();
  const faults = process.resourceUsage().minorPageFault - f0;
  // Reading /proc/self/io is itself a read of a few hundred bytes: counted, and negligible.
  return rchar() - r0 + faults * 4096;
}
