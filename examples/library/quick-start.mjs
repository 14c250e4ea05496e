// One local-mode turn in one process: the service, an agent (fetch) and the runtime (ModelClient).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelClient, startServer } from 'rock-model-service';

const dataDir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' });
const client = new ModelClient({ dataDir });

// The agent asks; its call waits until the runtime has answered.
const answer = fetch(`${server.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
}).then((res) => res.json());

// The runtime takes request 1 and answers it.
const request = await client.antiCallLlm(0);
console.log('runtime got:', request);
const reply = { choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] };
await client.pushResponse(1, JSON.stringify(reply));
console.log('agent got:', (await answer).choices[0].message.content);

client.close();
await server.close();
rmSync(dataDir, { recursive: true, force: true });
