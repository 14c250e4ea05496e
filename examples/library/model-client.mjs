// The runtime side without a service: request lines are written here the way the service writes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendLine, closeAppendFd, compactJson, encodeRequestLine, IndexRegressionError, ModelClient, openAppendFd,
  SESSION_END_LINE, TimeoutError,
} from 'rock-model-service';

const dataDir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const log = openAppendFd(join(dataDir, 'LLMService.log'));
const agentAsks = (index, text) =>
  appendLine(log, encodeRequestLine(compactJson(JSON.stringify({ messages: [{ role: 'user', content: text }] })), index));
const reply = (text) => JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] });

const client = new ModelClient({ dataDir });
console.log('log:', client.logFile === join(dataDir, 'LLMService.log'));

// antiCallLlm(0) waits for request 1; the agent sends it 50 ms later.
setTimeout(() => agentAsks(1, 'What is 2+2?'), 50);
console.log('request 1:', await client.antiCallLlm(0));

// appendResponse says what became of an answer; pushResponse only whether a line was written.
console.log('answer 1:', await client.appendResponse(1, reply('4')));
console.log('same again:', await client.appendResponse(1, reply('4')));
console.log('another answer to 1:', await client.appendResponse(1, reply('5')));
console.log('pushResponse of a retry wrote a line:', await client.pushResponse(1, reply('4')));

// popRequest waits for a request; with timeoutMs it gives up.
try {
  await client.popRequest(2, { timeoutMs: 100 });
} catch (err) {
  console.log('popRequest(2):', err instanceof TimeoutError, err.code, err.exitStatus);
}
agentAsks(2, 'And 3+3?');
console.log('request 2:', await client.popRequest(2));
console.log('request 1 again, as bytes:', (await client.popRequestBytes(1)).length, 'bytes');

// A signal cancels a wait.
const abort = new AbortController();
setTimeout(() => abort.abort(), 50);
await client.popRequest(3, { signal: abort.signal }).catch((err) => console.log('aborted:', err.code));

// The agent exits: the service writes SESSION_END, and the next turn returns it.
appendLine(log, SESSION_END_LINE);
console.log('turn 2:', await client.antiCallLlm(2, reply('6')));

// An answer to an index below the last one written is refused, and nothing is written.
await client.antiCallLlm(1, reply('4')).catch((err) => console.log(err instanceof IndexRegressionError, err.message));

client.close();
closeAppendFd(log);
rmSync(dataDir, { recursive: true, force: true });
