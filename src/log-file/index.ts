export { openAppendFd, appendLine, closeAppendFd, MAX_LINE_BYTES, type AppendOpenOptions } from './append.js';
export { openRegularFile, readRegularFileSync, replaceRegularFile, describeFileType, unsafePathError } from './regular-file.js';
