import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../examples/rl-loop/run.mjs', import.meta.url));

describe('the RL-loop demo (npm run demo)', function () {
  this.timeout(60_000);

  it('runs a whole session to SESSION_END, printing each turn, and exits 0', async () => {
    const child = spawn(process.execPath, [RUN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, output);
    const turns = output.split('\n').filter((line) => /^turn \d+ · antiCallLlm\(index \d+/.test(line));
    assert.equal(turns.length, 4, output);
    assert.match(turns.at(-1)!, /→ SESSION_END/);
    assert.match(output, /agent: final answer: notes\.txt has 3 lines; that's what `wc -l` says \("\$\(date\)" stays text\)\./);
  });
});
