/**
 * Claude Code, the real one (pinned, installed at test time into a cache under os.tmpdir()), driven
 * through the service in local mode: it calls /v1/messages, the runtime answers Chat Completions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSandbox } from '../../src/sandbox/local-sandbox.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { CLAUDE_CODE, installAgent, type InstalledAgent } from '../support/agent-install.js';
import { CLAUDE_SHELL_TOOL, claudeRun } from './support/agent-runs.js';
import { contentText, describeAgent, runAgentSession, textReply, toolCallReply } from './support/agent-session.js';

const FILE = 'from-runtime.txt';
const WORDS = 'written by the runtime through Claude Code';
const CALL_ID = 'toolu_rms_e2e_1';

describe('Claude Code against the service (real agent, local mode, translated)', function () {
  this.timeout(240_000);
  let agent: InstalledAgent;
  let server: RunningServer;
  let sandbox: LocalSandbox;
  let dataDir: string;

  before(async function () {
    // A cold cache downloads ~370 MB (about 10 s here); later runs reuse it.
    this.timeout(600_000);
    agent = await installAgent(CLAUDE_CODE);
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rms-claude-e2e-'));
    server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', watchIntervalMs: 100 });
    sandbox = new LocalSandbox({ env: { ROCK_MODEL_SERVICE_DATA_DIR: dataDir } });
  });

  afterEach(async () => {
    sandbox.killRunning();
    await server.close('test finished');
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes a Bash tool call and a final text from a Chat Completions runtime, writes the file, exits 0, and the session ends', async () => {
    const run = claudeRun(agent.binPath, server.url, `Put the words "${WORDS}" into ${FILE}.`, sandbox.resolvePath('.home'));
    const session = await runAgentSession({
      agentName: 'Claude Code',
      server,
      sandbox,
      argv: run.argv,
      env: run.env,
      reply: (request, turn) => {
        const toolNames = (request.tools ?? []).map((tool) => tool.function?.name);
        assert.ok(toolNames.includes(CLAUDE_SHELL_TOOL), `request ${turn} offers no ${CLAUDE_SHELL_TOOL} function tool; its tools: ${toolNames.join(', ')}`);
        if (turn === 1) return toolCallReply(CALL_ID, CLAUDE_SHELL_TOOL, { command: `echo '${WORDS}' > ${FILE} && cat ${FILE}`, description: 'Write the file' });
        return textReply('The file is written.');
      },
    });

    assert.equal(session.end, 'SESSION_END', 'the last anti-call should report the end of the session');
    assert.notEqual(session.turns.length, 0, `no request of Claude Code reached the log (is POST /v1/messages served?); ${describeAgent(session.agent)}`);
    assert.equal(session.turns.length, 2, `expected 2 requests (the prompt, then the tool result); got ${session.turns.length}: ${session.turns.map((t) => t.text.slice(0, 200)).join(' | ')}; ${describeAgent(session.agent)}`);
    assert.equal(session.agent.exitCode, 0, describeAgent(session.agent));
    assert.match(session.agent.stdout, /The file is written\./, describeAgent(session.agent));
    assert.equal(readFileSync(sandbox.resolvePath(FILE), 'utf8'), `${WORDS}\n`);

    const [first, second] = session.turns as [(typeof session.turns)[0], (typeof session.turns)[0]];
    for (const turn of session.turns) assert.equal(turn.meta.endpoint, '/v1/messages', `request line meta: ${JSON.stringify(turn.meta)}`);
    assert.ok(Array.isArray(first.request.messages), 'request 1 is not a Chat Completions request (no messages array)');
    assert.ok(first.request.messages.some((m) => m.role === 'user' && contentText(m.content).includes(WORDS)), 'request 1 does not carry the prompt as a user message');
    const toolMessage = second.request.messages.find((m) => m.role === 'tool');
    assert.ok(toolMessage, `request 2 has no tool message: ${second.text.slice(-1500)}`);
    assert.equal(toolMessage.tool_call_id, CALL_ID);
    assert.match(contentText(toolMessage.content), new RegExp(WORDS));
    const assistant = second.request.messages.find((m) => m.role === 'assistant' && Array.isArray(m.tool_calls));
    assert.ok(assistant, 'request 2 does not carry the runtime\'s tool call back as an assistant message');
  });
});
