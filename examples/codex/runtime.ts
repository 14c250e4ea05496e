/**
 * Codex CLI as the agent: it calls POST /v1/responses (OpenAI Responses) on the model service,
 * and the runtime reads and answers each call as Chat Completions. Its shell tool is
 * `exec_command`, whose result wraps the command's output in a report
 * ("Process exited with code 0 … Output:\n<output>").
 */
import { CODEX } from '../../test/support/agent-install.js';
import { CODEX_SHELL_ARGUMENT, CODEX_SHELL_TOOL, codexRun } from '../../test/agents/support/agent-runs.js';
import { driveAgent } from '../coding-agents/drive-agent.js';

process.exitCode = await driveAgent({
  name: 'Codex',
  package: CODEX,
  launch: (binPath, serviceUrl, prompt, home) => codexRun(binPath, `${serviceUrl}/v1`, prompt, home),
  shellTool: CODEX_SHELL_TOOL,
  shellArguments: (command) => ({ [CODEX_SHELL_ARGUMENT]: command }),
  commandOutput: (toolResult) => /Output:\n(.*)$/s.exec(toolResult)?.[1] ?? toolResult,
});
