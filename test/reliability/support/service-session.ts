/** A local service in its own process, its temporary data dir and a runtime client on its log: the set-up most scenarios share. */
import { join } from 'node:path';
import { ModelClient } from '../../../src/client/model-client.js';
import { tempDir } from './project.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

export interface ServiceSession {
  readonly dir: { path: string; cleanup(): void };
  readonly service: ServiceProcess;
  /** The service's communication log. */
  readonly log: string;
  readonly client: ModelClient;
  /** Closes the client, stops the service and removes the directory. */
  close(): Promise<void>;
}

/** Starts a service (startServer `config` on top of its data dir) in a new temporary dir; resolves when it listens. */
export async function openServiceSession(prefix: string, config: Record<string, unknown> = {}): Promise<ServiceSession> {
  const dir = tempDir(prefix);
  let service: ServiceProcess;
  try {
    service = await startServiceProcess({ dataDir: dir.path, ...config });
  } catch (err) {
    dir.cleanup();
    throw err;
  }
  const log = join(dir.path, 'LLMService.log');
  const client = new ModelClient({ logFile: log });
  return {
    dir,
    service,
    log,
    client,
    async close() {
      client.close();
      await service.stop();
      dir.cleanup();
    },
  };
}
