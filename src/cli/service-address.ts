import { DEFAULT_PORT } from '../config/defaults.js';
import { serviceUrl } from './http-request.js';
import { pidFilePath, runningService, type RunningService } from './service-files.js';

export interface ServiceAddress {
  url: string;
  /** The running service the pid file names, when there is one. */
  running: RunningService | undefined;
}

/**
 * Returns where to reach the service: the flags when given, else the address the running
 * service recorded beside the pid file, else the default (127.0.0.1:8080).
 */
export function serviceAddress(host: string | undefined, port: number | undefined): ServiceAddress {
  const running = runningService(pidFilePath());
  const record = running?.record;
  return {
    url: serviceUrl(host ?? record?.host ?? '127.0.0.1', port ?? record?.port ?? DEFAULT_PORT),
    running,
  };
}
