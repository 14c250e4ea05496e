/**
 * How an error becomes the CLI's exit status and its one stderr line (SPEC section 5): 2 for
 * bad usage or bad input, 3 for a timeout, 1 for anything else.
 */
import { ModelServiceError, type ErrorCode } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_TIMEOUT = 3;

const BAD_INPUT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'RMS_USAGE',
  'RMS_INVALID_ARGUMENT',
  'RMS_INVALID_JSON',
  'RMS_INVALID_UTF8',
  'RMS_INDEX_REGRESSION',
  'RMS_CONFIG',
]);

/** Returns the exit status for an error thrown by a command. */
export function exitStatusFor(err: unknown): number {
  if (!(err instanceof ModelServiceError)) return EXIT_FAILURE;
  if (err.code === 'RMS_TIMEOUT') return EXIT_TIMEOUT;
  return BAD_INPUT_CODES.has(err.code) ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

/** Returns the error as one line (multi-line messages are joined), prefixed with the command. */
export function errorLine(command: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const oneLine = message
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join('; ');
  return `${command}: ${oneLine}`;
}
