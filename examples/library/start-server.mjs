// The service in this process: what startServer returns, and how a local-mode call ends without an answer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from 'rock-model-service';

const dataDir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const server = await startServer({
  type: 'local',
  host: '127.0.0.1',
  port: 0, // any free port; server.port says which
  dataDir,
  requestTimeoutMs: 200, // a call with no answer within 0.2 s gets 504 (default: no limit)
  logLevel: 'silent', // the service log: pino levels, default info, to stderr
});
console.log('url:', server.url === `http://127.0.0.1:${server.port}`);
console.log('log:', server.config.logFile === join(dataDir, 'LLMService.log'));
console.log('scanner:', ['native', 'ts'].includes(server.scannerKind));

const health = await (await fetch(`${server.url}/health`)).json();
console.log('health:', health.status, health.mode, Object.keys(health).join(','));

const ask = () =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
let res = await ask();
console.log('no answer:', res.status, (await res.json()).error.code, res.headers.get('x-should-retry'));

res = await fetch(`${server.url}/v1/agent/watch`, { method: 'POST', body: JSON.stringify({ pid: 2 ** 22 + 1 }) });
console.log('watch:', res.status, await res.text());
await new Promise((resolve) => setTimeout(resolve, 1500)); // that pid does not exist: SESSION_END within a second
res = await ask();
console.log('after the session:', res.status, (await res.json()).error.code, res.headers.get('x-should-retry'));

await server.close();
rmSync(dataDir, { recursive: true, force: true });
