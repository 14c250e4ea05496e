import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuiltCli } from '../helpers/cli.js';
import { rssGrowth, traceLargeLog } from '../trace/support/large-log.js';

describe('reliability: trace a 1 GiB log', function () {
  this.timeout(600_000);
  let dir: string;
  before(requireBuiltCli);
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rms-trace-1g-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('10 000 turns in 1 GiB of real lines: the first turn in under a second, every turn, memory flat', async () => {
    const figures = await traceLargeLog(join(dir, 'LLMService.log'), 10_000, 2 ** 30);
    console.log(
      `      log ${(figures.logBytes / 2 ** 20).toFixed(0)} MiB written in ${figures.writeMs} ms; first turn ${figures.firstTurnMs.toFixed(0)} ms; ` +
        `all ${figures.turns} turns in ${figures.totalMs.toFixed(0)} ms; RSS peak ${figures.peakRssMiB.toFixed(0)} MiB, growth ${rssGrowth(figures.rssMiB).toFixed(1)} MiB`,
    );
    assert.equal(figures.exitCode, 0, figures.stderr);
    assert.ok(figures.logBytes >= 2 ** 30, `log of ${figures.logBytes} bytes`);
    assert.equal(figures.turns, 10_000);
    assert.ok(figures.sessionEnd);
    assert.ok(figures.firstTurnMs < 1000, `first turn after ${figures.firstTurnMs.toFixed(0)} ms`);
    assert.ok(figures.peakRssMiB < 200, `peak RSS ${figures.peakRssMiB.toFixed(0)} MiB for a 1 GiB log`);
    assert.ok(rssGrowth(figures.rssMiB) < 48, `RSS grew by ${rssGrowth(figures.rssMiB).toFixed(0)} MiB over the run`);
  });
});
