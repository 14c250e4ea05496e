import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../examples/rl-loop/run.mjs', import.meta.url));

/** Runs the demo; `onLine` sees each output line as it comes and may act on the process. */
function runDemo(onLine: (line: string, kill: (signal: NodeJS.Signals) => void) => void = () => {}) {
  const child = spawn(process.execPath, [RUN], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let partial = '';
  const take = (chunk: Buffer): void => {
    output += chunk.toString();
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line, (signal) => child.kill(signal));
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('the RL-loop demo (npm run demo)', function () {
  this.timeout(60_000);

  it('runs a whole session to SESSION_END, printing each turn, and exits 0', async () => {
    const { code, output } = await runDemo();
    assert.equal(code, 0, output);
    const turns = output.split('\n').filter((line) => /^turn \d+ · antiCallLlm\(index \d+/.test(line));
    assert.equal(turns.length, 4, output);
    assert.match(turns.at(-1)!, /→ SESSION_END/);
    assert.match(output, /agent: final answer: notes\.txt has 3 lines; that's what `wc -l` says \("\$\(date\)" stays text\)\./);
  });

  it('on Ctrl-C mid-session stops the service, removes the sandbox and exits 130', async () => {
    let sent = false;
    const { code, output } = await runDemo((line, kill) => {
      if (!sent && line.startsWith('turn 1 ')) {
        sent = true;
        kill('SIGINT');
      }
    });
    assert.equal(code, 130, output);
    assert.match(output, /interrupted by SIGINT/);
    const sandboxDir = /rl-loop: sandbox (\S+)/.exec(output)![1]!;
    assert.equal(existsSync(sandboxDir), false, 'the sandbox directory was left behind');
    const url = /model service started on (\S+)/.exec(output)![1]!;
    await assert.rejects(fetch(`${url}/health`), 'the model service is still answering');
  });
});
