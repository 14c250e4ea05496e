/**
 * A local-mode service in its own process, for scenarios that load it from outside and read
 * its memory: argv[2] is the startServer input as JSON. Sends `{ url }` over IPC once it
 * listens; answers `memory` with process.memoryUsage() taken after a full GC (run with
 * --expose-gc); `close` closes the service and exits.
 */
import { startServer } from '../../../src/server/index.js';

const server = await startServer(JSON.parse(process.argv[2]!));
process.send!({ url: server.url });
process.on('message', (message: string) => {
  if (message === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    process.send!({ memory: process.memoryUsage() });
  } else if (message === 'close') {
    void server.close('test finished').then(() => process.exit(0));
  }
});
