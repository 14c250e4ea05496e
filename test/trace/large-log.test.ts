import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requireBuiltCli } from '../helpers/cli.js';
import { rssGrowth, traceLargeLog } from './support/large-log.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

// The quick version of test/reliability/trace.reliability.ts (1 GiB, 10 000 turns).
describe('trace on a large log (quick)', function () {
  this.timeout(120_000);
  let dir: string;
  before(requireBuiltCli);
  beforeEach(() => (dir = makeTempDir('trace-big')));
  afterEach(() => removeDir(dir));

  it('streams a 96 MiB log of 1000 turns: the first turn at once, every turn, memory flat', async () => {
    const figures = await traceLargeLog(join(dir, 'LLMService.log'), 1000, 96 * 2 ** 20);
    assert.equal(figures.exitCode, 0, figures.stderr);
    assert.equal(figures.turns, 1000);
    assert.ok(figures.sessionEnd);
    assert.ok(figures.logBytes > 80 * 2 ** 20, `log of ${figures.logBytes} bytes`);
    assert.ok(figures.firstTurnMs < 1000, `first turn after ${figures.firstTurnMs.toFixed(0)} ms`);
    assert.ok(figures.peakRssMiB < 160, `peak RSS ${figures.peakRssMiB.toFixed(0)} MiB`);
    assert.ok(rssGrowth(figures.rssMiB) < 32, `RSS grew by ${rssGrowth(figures.rssMiB).toFixed(0)} MiB over the run`);
  });
});
