/**
 * `rock model-service start --foreground`: the service in this process until SIGTERM or
 * SIGINT, then a graceful stop (stop accepting, answer waiting calls with an error, flush)
 * and exit 0.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { ServiceConfigInput } from '../config/resolve.js';
import type { ServiceConfig } from '../config/types.js';
import { startServer, type RunningServer } from './start.js';

/**
 * Starts the service and installs the signal handlers; resolves once it listens.
 * @throws what startServer throws.
 */
export async function runServiceInForeground(input: ServiceConfigInput | ServiceConfig = {}): Promise<RunningServer> {
  const server = await startServer(input);
  const stop = (signal: NodeJS.Signals): void => {
    server.close(signal).then(
      () => {
        removeOwnPidFile(server.config.pidFile);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`rock-model-service: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
        removeOwnPidFile(server.config.pidFile);
        process.exit(1);
      },
    );
  };
  // once: a second Ctrl-C falls through to the default handler and ends the process at once.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}

/** Removes the pid file only while it still names this process (a newer service may own it). */
function removeOwnPidFile(pidFile: string | undefined): void {
  if (!pidFile) return;
  try {
    if (Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10) === process.pid) rmSync(pidFile, { force: true });
  } catch {
    // Already gone, or unreadable: nothing of ours to remove.
  }
}
