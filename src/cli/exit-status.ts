/**
 * How an error becomes the CLI's exit status and its one stderr line (SPEC section 5): the
 * exit status of each code stands in the error table (src/errors.ts); anything else is 1.
 */
import { EXIT_FAILURE, ModelServiceError } from '../errors.js';

export { EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_TIMEOUT } from '../errors.js';

/** Returns the exit status for an error thrown by a command. */
export function exitStatusFor(err: unknown): number {
  return err instanceof ModelServiceError ? err.exitStatus : EXIT_FAILURE;
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
