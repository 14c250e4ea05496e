/**
 * Codex CLI, the real one (pinned, installed at test time into a cache under os.tmpdir()), driven
 * through the service in local mode: it calls /v1/responses, the runtime answers Chat Completions.
 */
import { CODEX } from '../support/agent-install.js';
import { CODEX_SHELL_ARGUMENT, CODEX_SHELL_TOOL, codexRun } from './support/agent-runs.js';
import { describeAgentEndToEnd } from './support/agent-end-to-end.js';

describeAgentEndToEnd({
  name: 'Codex',
  package: CODEX,
  endpoint: '/v1/responses',
  launch: (binPath, serviceUrl, prompt, home) => codexRun(binPath, `${serviceUrl}/v1`, prompt, home),
  shellTool: CODEX_SHELL_TOOL,
  shellArguments: (command) => ({ [CODEX_SHELL_ARGUMENT]: command }),
  callId: 'call_rms_e2e_1',
  launchWithIdleTimeout: (binPath, serviceUrl, prompt, home, idleMs) =>
    codexRun(binPath, `${serviceUrl}/v1`, prompt, home, { stream_idle_timeout_ms: idleMs, stream_max_retries: 0 }),
});
