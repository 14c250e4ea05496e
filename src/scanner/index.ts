/** The scanner's public face: openScanner over the engine the loader picks, and the record layout. */
export { openScanner, type LogScanner, type LogIdentity } from './log-scanner.js';
export { getScanEngine, availableEngines, scannerStatus, type ScannerStatus } from './load.js';
export {
  RecordKind,
  KindMask,
  RECORD_STRIDE,
  F_KIND,
  F_INDEX,
  F_LINE_START,
  F_PAYLOAD_START,
  F_PAYLOAD_END,
  F_LINE_END,
  recordAt,
  type LogRecord,
  type ScanResult,
  type ScanOptions,
  type ScanEngine,
} from './types.js';
