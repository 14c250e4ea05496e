/**
 * `rock model-service start --foreground`: the service in this process until SIGTERM or
 * SIGINT, then a graceful stop (stop accepting, answer waiting calls with an error, flush)
 * and exit 0. The pid file is the CLI's: it removes its files on the process's `exit` event.
 */
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
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`rock-model-service: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  // once: a second Ctrl-C falls through to the default handler and ends the process at once.
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}
