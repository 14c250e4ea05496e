// A whole session through the sandbox SDK: install, start, launch an agent, watch it, one antiCallLlm per turn, stop.
import { LocalSandbox, ModelService } from 'rock-model-service';

// A sandbox on this machine: a temporary directory, this package's `rock` first on PATH.
const sandbox = new LocalSandbox();
const service = new ModelService(sandbox, {
  installCmd: 'command -v rock', // LocalSandbox already has it; in a real sandbox keep the default (npm install -g)
  startCmd: 'rock model-service start --type ${type} --host 127.0.0.1 --port 0', // port 0: any free port
});

// The agent: asks the model twice over HTTP, then exits.
const agent = `
import { execSync } from 'node:child_process';
const { address } = JSON.parse(execSync('rock model-service status --json'));
const messages = [{ role: 'user', content: 'list the files' }];
for (let turn = 0; turn < 2; turn++) {
  const res = await fetch(address + '/v1/chat/completions', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages }),
  });
  messages.push((await res.json()).choices[0].message, { role: 'user', content: 'thanks' });
}`;

try {
  await service.install();
  await service.start(); // stop, start, then the health check
  await sandbox.upload({ content: agent }, 'agent.mjs');
  const pid = (await sandbox.run('node agent.mjs > agent.log 2>&1 & echo $!', { timeoutMs: 10_000 })).stdout.trim();
  await service.watchAgent(pid); // SESSION_END once the agent exits

  let request = await service.antiCallLlm(0); // request 1
  for (let index = 1; request !== 'SESSION_END'; index++) {
    const { messages } = JSON.parse(request);
    console.log(`request ${index}:`, messages.map((m) => m.content).join(' | '));
    const reply = { choices: [{ index: 0, message: { role: 'assistant', content: `answer ${index}` }, finish_reason: 'stop' }] };
    request = await service.antiCallLlm(index, JSON.stringify(reply), { callTimeout: 60 });
  }
  console.log(request);
} finally {
  await service.stop();
  await sandbox.close(); // kills what the sandbox started, removes the directory
}
