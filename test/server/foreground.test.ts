import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLog } from '../helpers/service.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

describe('server: foreground process', () => {
  it('on SIGTERM answers the waiting call with an error and exits 0', async () => {
    const dir = makeTempDir('fg');
    const module = new URL('../../src/server/index.ts', import.meta.url).href;
    const script =
      `const { runServiceInForeground } = await import(${JSON.stringify(module)});` +
      `const s = await runServiceInForeground({ host: '127.0.0.1', port: 0, dataDir: ${JSON.stringify(dir)}, logLevel: 'silent' });` +
      `console.log(s.url);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [data] = (await once(child.stdout!, 'data')) as [Buffer];
      const url = data.toString().trim();
      const pending = fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{"model":"m","messages":[]}' });
      const log = join(dir, 'LLMService.log');
      const deadline = Date.now() + 10_000;
      while (!parseLog(readFileSync(log, 'utf8')).some((l) => l.kind === 'request') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const res = await pending;
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /stopping/);
      const [code, signal] = await exited;
      assert.equal(signal, null);
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
      removeDir(dir);
    }
  });
});
