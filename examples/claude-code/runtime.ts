/**
 * Claude Code as the agent: it calls POST /v1/messages (Anthropic Messages) on the model service,
 * and the runtime reads and answers each call as Chat Completions. Its shell tool is `Bash`, and a
 * Bash result is the command's output as it is.
 */
import { CLAUDE_CODE } from '../../test/support/agent-install.js';
import { CLAUDE_SHELL_TOOL, claudeRun } from '../../test/agents/support/agent-runs.js';
import { driveAgent } from '../coding-agents/drive-agent.js';

process.exitCode = await driveAgent({
  name: 'Claude Code',
  package: CLAUDE_CODE,
  launch: (binPath, serviceUrl, prompt, home) => claudeRun(binPath, serviceUrl, prompt, home),
  shellTool: CLAUDE_SHELL_TOOL,
  shellArguments: (command) => ({ command, description: 'Write the haiku' }),
  commandOutput: (toolResult) => toolResult,
});
