/** `rock model-service stop`: SIGTERM, wait, SIGKILL after a grace period, pid file removed. */
import { setTimeout as sleep } from 'node:timers/promises';
import { STOP_GRACE_MS } from '../../config/defaults.js';
import { StopFailedError } from '../../errors.js';
import { isSameProcess, pidFilePath, readPid, removeServiceFiles, runningService } from '../service-files.js';
import { writeStdoutSync } from '../write-stdout.js';

const EXIT_POLL_MS = 50;
const KILL_WAIT_MS = 5000;

/**
 * Stops the service the pid file names; a missing, stale or zombie pid, or a pid that is not
 * our service's, is "not running", not an error, and is never signalled.
 * @throws StopFailedError when the process may not be signalled or survives SIGKILL.
 */
export async function stop(): Promise<void> {
  const pidFile = pidFilePath();
  const running = runningService(pidFile);
  if (running === undefined) {
    const stale = readPid(pidFile);
    if (stale !== undefined) removeServiceFiles(pidFile, stale);
    writeStdoutSync('model service is not running\n');
    return;
  }
  const { pid, record } = running;
  // Checked again before each signal: after the grace period the pid may name another process.
  const stillOurs = (): boolean => isSameProcess(pid, record.startTime);
  signal(pid, 'SIGTERM');
  let how = 'stopped';
  if (!(await waitGone(stillOurs, STOP_GRACE_MS))) {
    signal(pid, 'SIGKILL');
    how = `killed (it ignored SIGTERM for ${STOP_GRACE_MS / 1000} s)`;
    if (!(await waitGone(stillOurs, KILL_WAIT_MS))) {
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

/** Resolves true once the process is gone (or a zombie, or its pid names another process), false after `ms`. */
async function waitGone(stillOurs: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (stillOurs()) {
    if (Date.now() >= deadline) return false;
    await sleep(EXIT_POLL_MS);
  }
  return true;
}
