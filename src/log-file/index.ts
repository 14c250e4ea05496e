export { openAppendFd, appendLine, closeAppendFd, MAX_LINE_BYTES, type AppendOpenOptions } from './append.js';
export { openRegularFile, readRegularFile, replaceRegularFile, describeFileType, unsafePathError } from './regular-file.js';
