import { spawn } from 'node:child_process';

/**
 * Runs an ESM `script` (TypeScript imports allowed, through tsx) in a child whose file-size limit
 * (RLIMIT_FSIZE, set with `ulimit -f`) is `kib` KiB, with SIGXFSZ ignored: a write(2) that crosses
 * the limit comes back short and the next fails with EFBIG, as on a full disk.
 * @returns everything the child printed, stdout and stderr, trimmed.
 */
export function runWithFileSizeLimit(script: string, kib: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f ${kib}; exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, script]);
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('exit', () => resolve(text.trim()));
  });
}
