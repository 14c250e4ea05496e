/** `rock model-service watch-agent --pid P`: asks the running service to watch the agent process. */
import { NotRunningError, ServiceRefusedError } from '../../errors.js';
import { httpRequest } from '../http-request.js';
import { parseInteger } from '../parse-options.js';
import { serviceAddress } from '../service-address.js';
import { writeStdoutSync } from '../write-stdout.js';

export interface WatchAgentOptions {
  pid: string;
  host?: string;
  port?: string;
}

/**
 * Posts the pid to `/v1/agent/watch` and prints the service's answer.
 * @throws UsageError for a bad pid or port, NotRunningError when no service answers, ServiceRefusedError when it refuses.
 */
export async function watchAgent(options: WatchAgentOptions): Promise<void> {
  const pid = parseInteger('--pid', options.pid, 1, 2 ** 31 - 1);
  const port = options.port === undefined ? undefined : parseInteger('--port', options.port, 1, 65535);
  const url = `${serviceAddress(options.host, port).url}/v1/agent/watch`;
  let answer;
  try {
    answer = await httpRequest('POST', url, JSON.stringify({ pid }), 10_000);
  } catch (err) {
    throw new NotRunningError(`no model service answers at ${url} (${(err as Error).message}); start it with \`rock model-service start\` or pass --host/--port`);
  }
  if (answer.status !== 200) {
    throw new ServiceRefusedError(`the model service refused to watch pid ${pid}: HTTP ${answer.status} ${answer.body.trim()}`);
  }
  writeStdoutSync(`${answer.body.trim()}\n`);
}
