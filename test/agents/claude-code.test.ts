/**
 * Claude Code, the real one (pinned, installed at test time into a cache under os.tmpdir()), driven
 * through the service in local mode: it calls /v1/messages, the runtime answers Chat Completions.
 */
import { CLAUDE_CODE } from '../support/agent-install.js';
import { CLAUDE_SHELL_TOOL, claudeRun } from './support/agent-runs.js';
import { describeAgentEndToEnd } from './support/agent-end-to-end.js';

describeAgentEndToEnd({
  name: 'Claude Code',
  package: CLAUDE_CODE,
  endpoint: '/v1/messages',
  launch: (binPath, serviceUrl, prompt, home) => claudeRun(binPath, serviceUrl, prompt, home),
  shellTool: CLAUDE_SHELL_TOOL,
  shellArguments: (command) => ({ command, description: 'Write the file' }),
  callId: 'toolu_rms_e2e_1',
});
