import { errorLine, exitStatusFor } from './exit-status.js';

/** Runs one command; an error becomes one stderr line and an exit status (the process ends on its own, so stdout is never cut). */
export async function runCommand(command: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    process.stderr.write(`${errorLine(`rock model-service ${command}`, err)}\n`);
    process.exitCode = exitStatusFor(err);
  }
}
