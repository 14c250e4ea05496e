/**
 * The coding-agent examples (`node examples/claude-code/run.mjs`, `node examples/codex/run.mjs`):
 * each runs the real agent through the service to SESSION_END and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLAUDE_CODE, CODEX, installAgent } from '../support/agent-install.js';

function runExample(folder: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`../../examples/${folder}/run.mjs`, import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 150_000);
  return new Promise((resolve) => child.on('close', (code) => (clearTimeout(timer), resolve({ code, output }))));
}

describe('the coding-agent examples', function () {
  this.timeout(180_000);

  before(async function () {
    this.timeout(600_000);
    await Promise.all([installAgent(CLAUDE_CODE), installAgent(CODEX)]);
  });

  for (const [folder, name] of [['claude-code', 'Claude Code'], ['codex', 'Codex']] as const) {
    it(`examples/${folder}: ${name} takes a tool call and a final answer, the session ends, exit 0`, async () => {
      const { code, output } = await runExample(folder);
      assert.equal(code, 0, output);
      const turns = output.split('\n').filter((line) => line.startsWith('turn '));
      assert.equal(turns.length, 3, output);
      assert.match(turns[0]!, /request 1, .*tools/);
      assert.match(turns[1]!, /request 2, .*tool\)/);
      assert.match(turns[2]!, /SESSION_END/);
      assert.match(output, /haiku\.txt in the sandbox: "logs fill line by line/);
      assert.match(output, /exited 0; it printed: "Wrote haiku\.txt; wc counts 16 words\."/);
    });
  }
});
