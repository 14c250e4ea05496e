// `npm start`: the local-mode service in the foreground, its data under the project (.data/,
// git-ignored) instead of the CLI's /data/logs. Ctrl-C stops it gracefully.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('rock-model-service: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { startServer } = await import(entry.href);
const dataDir = process.env.ROCK_MODEL_SERVICE_DATA_DIR || `${root}.data`;
const server = await startServer({
  type: 'local',
  host: process.env.HOST || '127.0.0.1',
  port: Number(process.env.PORT || 8080),
  dataDir,
});
// once: a second Ctrl-C falls through to the default handler and ends the process at once.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(signal).then(() => process.exit(0), () => process.exit(1)));
console.error(
  `rock-model-service (local mode, ${server.scannerKind} scanner) at ${server.url}, log ${server.config.logFile}\n` +
    `  agent:   curl -s ${server.url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"m","messages":[{"role":"user","content":"hi"}]}'\n` +
    `  runtime: ROCK_MODEL_SERVICE_DATA_DIR=${dataDir} node bin/rock.js model-service anti-call-llm --index 0`,
);
