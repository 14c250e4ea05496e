// `npm run demo`: runs the RL-loop demo (runtime.ts, which launches agent.ts in a LocalSandbox).
// The demo is TypeScript run through tsx, against the built package in dist/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
if (!existsSync(`${root}dist/index.js`) || !existsSync(`${root}dist/cli/main.js`)) {
  console.error('rl-loop: dist/ is not built; run `npm run build` (or `npm ci`, which builds) first');
  process.exit(1);
}
const runtime = fileURLToPath(new URL('./runtime.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), runtime], { stdio: 'inherit' });
// The runtime cleans up on a signal; stay alive until it has, and pass on a signal sent to us alone.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
