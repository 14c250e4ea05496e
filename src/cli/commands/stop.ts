/** `rock model-service stop`: SIGTERM, wait, SIGKILL after a grace period, pid file removed. */
import { setTimeout as sleep } from 'node:timers/promises';
import { STOP_GRACE_MS } from '../../config/defaults.js';
import { StopFailedError } from '../../errors.js';
import { isProcessRunning } from '../../process/process-state.js';
import { pidFilePath, readPid, removeServiceFiles, runningPid } from '../service-files.js';
import { writeStdoutSync } from '../write-stdout.js';

const EXIT_POLL_MS = 50;
const KILL_WAIT_MS = 5000;

/**
 * Stops the service the pid file names; a missing, stale or zombie pid is "not running", not an error.
 * @throws StopFailedError when the process may not be signalled or survives SIGKILL.
 */
export async function stop(): Promise<void> {
  const pidFile = pidFilePath();
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    const stale = readPid(pidFile);
    if (stale !== undefined) removeServiceFiles(pidFile, stale);
    writeStdoutSync('model service is not running\n');
    return;
  }
  signal(pid, 'SIGTERM');
  let how = 'stopped';
  if (!(await waitGone(pid, STOP_GRACE_MS))) {
    signal(pid, 'SIGKILL');
    how = `killed (it ignored SIGTERM for ${STOP_GRACE_MS / 1000} s)`;
    if (!(await waitGone(pid, KILL_WAIT_MS))) {
      throw new StopFailedError(`process ${pid} is still running after SIGKILL; check it with \`ps -p ${pid}\``);
    }
  }
  removeServiceFiles(pidFile, pid);
  writeStdoutSync(`model service ${how} (pid ${pid})\n`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return;
    throw new StopFailedError(`cannot send ${name} to the model service (pid ${pid}): ${code}; run stop as the user that started it`);
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isProcessRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(EXIT_POLL_MS);
  }
  return true;
}
