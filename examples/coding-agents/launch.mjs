// Starts one coding-agent example's runtime (TypeScript, run through tsx) against the compiled
// package in dist/, and exits with its status; a Ctrl-C reaches the runtime, which cleans up.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Runs `runtimeUrl` (a .ts file URL) with tsx; never returns (the process exits with the runtime's status). */
export function launch(runtimeUrl) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (!existsSync(`${root}dist/index.js`) || !existsSync(`${root}dist/cli/main.js`)) {
    console.error('dist/ is not built; run `npm run build` (or `npm ci`, which builds) first');
    process.exit(1);
  }
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(runtimeUrl)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}
