/**
 * How an error becomes the CLI's exit status and its one stderr line (docs/cli.md, docs/errors.md): the
 * exit status of each code stands in the error table (src/errors.ts); anything else is 1.
 */
import { EXIT_FAILURE, ModelServiceError } from '../errors.js';

export { EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_TIMEOUT } from '../errors.js';

/** Returns the exit status for an error thrown by a command. */
export function exitStatusFor(err: unknown): number {
  return err instanceof ModelServiceError ? err.exitStatus : EXIT_FAILURE;
}

/**
 * Returns the error as one line (multi-line messages are joined), prefixed with the command.
 * Control characters a message carries from user input (an escape sequence in a flag's value)
 * are shown escaped, never sent raw to the terminal.
 */
export function errorLine(command: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const oneLine = message
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join('; ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${command}: ${oneLine}`;
}
