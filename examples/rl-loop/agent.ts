/**
 * The agent of the RL-loop demo: an ordinary tool-using agent built on the official `openai`
 * client. It believes it talks to a model at OPENAI_BASE_URL; in local mode every call it makes
 * is answered by the runtime (runtime.ts) through the model service's log file.
 * It runs inside the sandbox, in the sandbox's working directory, and exits when the model
 * gives a final answer; the service sees the exit and ends the session.
 */
import { execSync } from 'node:child_process';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';

const MAX_TURNS = 8;

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'run_shell',
      description: 'Run a shell command in the working directory and return its output.',
      parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
    },
  },
];

const client = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY ?? 'local',
  // The runtime answers every call exactly once: a retry would be a second, different turn.
  maxRetries: 0,
});

const messages: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are a careful assistant. Use run_shell to look before you answer.' },
  { role: 'user', content: 'How many lines does notes.txt have?' },
];

const log = (line: string): void => console.log(`agent: ${line}`);

for (let turn = 1; turn <= MAX_TURNS; turn++) {
  const completion = await client.chat.completions.create({ model: 'rl-policy', messages, tools });
  const message = completion.choices[0]?.message;
  if (!message) throw new Error('the model returned no choice');
  messages.push(message);
  const calls = (message.tool_calls ?? []).filter((call) => call.type === 'function');
  if (calls.length === 0) {
    log(`final answer: ${message.content}`);
    process.exit(0);
  }
  for (const call of calls) {
    const { command } = JSON.parse(call.function.arguments) as { command: string };
    const output = execSync(command, { encoding: 'utf8' }).trim();
    log(`turn ${turn}: ran ${JSON.stringify(command)} → ${JSON.stringify(output)}`);
    messages.push({ role: 'tool', tool_call_id: call.id, content: output });
  }
}
log(`no final answer after ${MAX_TURNS} turns`);
process.exit(1);
