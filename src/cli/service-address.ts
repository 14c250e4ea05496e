import { DEFAULT_PORT } from '../config/defaults.js';
import { serviceUrl } from './http-request.js';
import { pidFilePath, readServiceRecord, runningPid, type ServiceRecord } from './service-files.js';

export interface ServiceAddress {
  url: string;
  /** What the running service recorded about itself, when the pid file names one. */
  record: ServiceRecord | undefined;
}

/**
 * Returns where to reach the service: the flags when given, else the address the running
 * service recorded beside the pid file, else the default (127.0.0.1:8080).
 */
export function serviceAddress(host: string | undefined, port: number | undefined): ServiceAddress {
  const pidFile = pidFilePath();
  const pid = runningPid(pidFile);
  const record = pid === undefined ? undefined : readServiceRecord(pidFile, pid);
  return {
    url: serviceUrl(host ?? record?.host ?? '127.0.0.1', port ?? record?.port ?? DEFAULT_PORT),
    record,
  };
}
