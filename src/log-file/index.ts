export { openAppendFd, appendLine, closeAppendFd, MAX_LINE_BYTES } from './append.js';
