export {
  openAppendFd,
  appendLine,
  closeAppendFd,
  MAX_LINE_BYTES,
  openRegularFile,
  describeFileType,
  unsafePathError,
  type AppendOpenOptions,
} from './append.js';
export { readRegularFileSync, replaceRegularFile } from './replace-file.js';
