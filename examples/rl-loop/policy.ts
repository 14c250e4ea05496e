/**
 * The demo's stand-in for the model being trained: a scripted policy that reads the agent's
 * request and writes the chat.completion the agent will receive. A real runtime generates this
 * reply with the policy model; the plumbing around it is the same.
 */
interface RequestMessage {
  role: string;
  content?: string | null;
}

export interface ChatRequest {
  model?: string;
  messages: RequestMessage[];
}

export interface PolicyReply {
  /** One line for the demo's output. */
  summary: string;
  /** The chat.completion JSON text handed to antiCallLlm. */
  response: string;
}

function completion(index: number, message: Record<string, unknown>, finishReason: 'tool_calls' | 'stop'): string {
  return JSON.stringify({
    id: `chatcmpl-demo-${index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'rl-policy',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finishReason }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  });
}

function runShell(index: number, command: string): PolicyReply {
  const toolCall = { id: `call_${index}`, type: 'function', function: { name: 'run_shell', arguments: JSON.stringify({ command }) } };
  return { summary: `tool call run_shell(${JSON.stringify(command)})`, response: completion(index, { tool_calls: [toolCall] }, 'tool_calls') };
}

/** The reply to request number `index` (1-based, as the service numbers them). */
export function policy(request: ChatRequest, index: number): PolicyReply {
  const toolResults = request.messages.filter((m) => m.role === 'tool').map((m) => m.content ?? '');
  if (toolResults.length === 0) return runShell(index, 'ls');
  if (toolResults.length === 1) return runShell(index, 'wc -l < notes.txt');
  const count = toolResults[1]!.trim();
  // An apostrophe and "$(...)" in the answer: they reach the agent as text, not as shell syntax.
  const content = `notes.txt has ${count} lines; that's what \`wc -l\` says ("$(date)" stays text).`;
  return { summary: `final answer ${JSON.stringify(content)}`, response: completion(index, { content }, 'stop') };
}
