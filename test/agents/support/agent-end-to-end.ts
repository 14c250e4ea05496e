/**
 * The end-to-end case both real agents go through: the agent in a LocalSandbox against a service
 * started with `startServer` (local mode, translated), a runtime on Chat Completions that first
 * calls the agent's shell tool to write a file, then answers with a text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LocalSandbox } from '../../../src/sandbox/local-sandbox.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { installAgent, type AgentPackage } from '../../support/agent-install.js';
import { contentText, describeAgent, runAgentSession, textReply, toolCallReply, type AgentSessionOptions } from './agent-session.js';
import { makeTempDir, removeDir } from '../../helpers/temp-dir.js';

export interface AgentCase {
  /** "Claude Code", "Codex". */
  name: string;
  package: AgentPackage;
  /** The route the agent calls, as the request line's meta names it. */
  endpoint: string;
  /** The agent's argv and environment, given its binary, the service's root URL, a prompt and a directory of its own. */
  launch(binPath: string, serviceUrl: string, prompt: string, home: string): { argv: string[]; env: Record<string, string> };
  /** The agent's shell tool and the arguments that run `command` with it. */
  shellTool: string;
  shellArguments(command: string): Record<string, unknown>;
  /** A tool call id as the runtime would write it. */
  callId: string;
  /**
   * Launches the agent with its stream idle timeout cut to `idleMs` and no stream retries, when
   * the agent allows it (Claude Code does not: its bound cannot go under 300 s).
   */
  launchWithIdleTimeout?(binPath: string, serviceUrl: string, prompt: string, home: string, idleMs: number): { argv: string[]; env: Record<string, string> };
}

const FILE = 'from-runtime.txt';
const FINAL = 'The file is written.';
/** The service's heartbeat in these tests, and the agent's idle bound where it can be cut: the runtime thinks for 2.5 bounds. */
const HEARTBEAT_MS = 500;
const IDLE_MS = 2000;

/** Declares the mocha suite for `agent`: installs it once (up to 10 min on a cold cache), then one session per test. */
export function describeAgentEndToEnd(agent: AgentCase): void {
  describe(`${agent.name} against the service (real agent, local mode, translated)`, function () {
    this.timeout(240_000);
    let binPath: string;
    let server: RunningServer;
    let sandbox: LocalSandbox;
    let dataDir: string;

    before(async function () {
      // A cold cache downloads ~400 MB per agent (about 6 s here); later runs reuse it.
      this.timeout(600_000);
      binPath = (await installAgent(agent.package)).binPath;
    });

    beforeEach(async () => {
      dataDir = makeTempDir('agent-e2e');
      server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', watchIntervalMs: 100, heartbeatIntervalMs: HEARTBEAT_MS });
      sandbox = new LocalSandbox({ env: { ROCK_MODEL_SERVICE_DATA_DIR: dataDir } });
    });

    afterEach(async () => {
      sandbox.killRunning();
      await server.close('test finished');
      await sandbox.close();
      removeDir(dataDir);
    });

    /** Runs one session of the agent launched as `run`, the runtime answering with `reply`. */
    const session = (run: { argv: string[]; env: Record<string, string> }, reply: AgentSessionOptions['reply']) =>
      runAgentSession({ agentName: agent.name, server, sandbox, argv: run.argv, env: run.env, reply });

    it(`takes a call to ${agent.shellTool} and a final text from a Chat Completions runtime, writes the file, exits 0, and the session ends`, async () => {
      const words = `written by the runtime through ${agent.name}`;
      const run = agent.launch(binPath, server.url, `Put the words "${words}" into ${FILE}.`, sandbox.resolvePath('.agent-home'));
      const result = await session(run, (request, turn) => {
        const toolNames = (request.tools ?? []).map((tool) => tool.function?.name);
        assert.ok(toolNames.includes(agent.shellTool), `request ${turn} offers no ${agent.shellTool} function tool; its tools: ${toolNames.join(', ')}`);
        if (turn === 1) return toolCallReply(agent.callId, agent.shellTool, agent.shellArguments(`echo '${words}' > ${FILE} && cat ${FILE}`));
        return textReply(FINAL);
      });

      assert.equal(result.end, 'SESSION_END', 'the last anti-call should report the end of the session');
      assert.notEqual(result.turns.length, 0, `no request of ${agent.name} reached the log (is POST ${agent.endpoint} served?); ${describeAgent(result.agent)}`);
      assert.equal(result.turns.length, 2, `expected 2 requests (the prompt, then the tool result); got ${result.turns.length}: ${result.turns.map((t) => t.text.slice(0, 200)).join(' | ')}; ${describeAgent(result.agent)}`);
      assert.equal(result.agent.exitCode, 0, describeAgent(result.agent));
      assert.ok(result.agent.stdout.includes(FINAL), describeAgent(result.agent));
      assert.equal(readFileSync(sandbox.resolvePath(FILE), 'utf8'), `${words}\n`);

      const [first, second] = result.turns as [(typeof result.turns)[0], (typeof result.turns)[0]];
      for (const turn of result.turns) assert.equal(turn.meta.endpoint, agent.endpoint, `request line meta: ${JSON.stringify(turn.meta)}`);
      assert.ok(Array.isArray(first.request.messages), 'request 1 is not a Chat Completions request (no messages array)');
      assert.ok(first.request.messages.some((m) => m.role === 'user' && contentText(m.content).includes(words)), 'request 1 does not carry the prompt as a user message');
      const toolMessage = second.request.messages.find((m) => m.role === 'tool');
      assert.ok(toolMessage, `request 2 has no tool message: ${second.text.slice(-1500)}`);
      assert.equal(toolMessage.tool_call_id, agent.callId);
      assert.ok(contentText(toolMessage.content).includes(words), `the tool message does not carry the command's output: ${JSON.stringify(toolMessage.content)}`);
      assert.ok(
        second.request.messages.some((m) => m.role === 'assistant' && Array.isArray(m.tool_calls)),
        'request 2 does not carry the runtime\'s tool call back as an assistant message',
      );
    });

    if (agent.launchWithIdleTimeout) {
      const launchWithIdleTimeout = agent.launchWithIdleTimeout;
      it(`stays connected while the runtime thinks for longer than ${agent.name}'s stream idle timeout (the service's heartbeats count for it)`, async () => {
        const run = launchWithIdleTimeout(binPath, server.url, 'Say hello.', sandbox.resolvePath('.agent-home'), IDLE_MS);
        const result = await session(run, async () => {
          await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2.5));
          return textReply(FINAL);
        });
        assert.equal(result.end, 'SESSION_END');
        assert.notEqual(result.turns.length, 0, `no request of ${agent.name} reached the log (is POST ${agent.endpoint} served?); ${describeAgent(result.agent)}`);
        assert.equal(result.turns.length, 1, `the agent gave up waiting and sent its call again; ${describeAgent(result.agent)}`);
        assert.equal(result.agent.exitCode, 0, describeAgent(result.agent));
        assert.ok(result.agent.stdout.includes(FINAL), describeAgent(result.agent));
      });
    }
  });
}
