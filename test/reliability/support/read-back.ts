/** Reads a whole log back through one scan engine, line by line, with the bytes of each line. */
import { closeSync, openSync, readSync } from 'node:fs';
import { openScanner } from '../../../src/scanner/index.js';
import { recordAt, type LogRecord, type ScanEngine } from '../../../src/scanner/types.js';

export interface ReadBack {
  records: number;
  /** Where the scanner stopped; equals the file size when every line was complete. */
  endOffset: number;
  size: number;
}

/** Calls `visit` with every complete line of `path`, in order; returns what the scan saw. */
export function readBack(path: string, engine: ScanEngine, visit: (record: LogRecord, line: Buffer) => void): ReadBack {
  const scanner = openScanner(path, { engine });
  const fd = openSync(path, 'r');
  try {
    let offset = 0;
    let records = 0;
    let size = 0;
    for (;;) {
      const batch = scanner.scan(offset, { maxRecords: 4096 });
      size = batch.size;
      for (let i = 0; i < batch.count; i++) {
        const record = recordAt(batch, i);
        const line = Buffer.allocUnsafe(record.lineEnd - record.lineStart);
        // One read(2) moves at most 0x7ffff000 bytes: loop for longer lines.
        for (let at = 0; at < line.length; ) {
          const n = readSync(fd, line, at, line.length - at, record.lineStart + at);
          if (n === 0) throw new Error(`the log ended inside the line at ${record.lineStart}`);
          at += n;
        }
        visit(record, line);
        records++;
      }
      if (batch.nextOffset <= offset) return { records, endOffset: offset, size };
      offset = batch.nextOffset;
    }
  } finally {
    closeSync(fd);
    scanner.close();
  }
}
