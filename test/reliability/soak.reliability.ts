import { soak } from './scenarios/soak.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: soak', function () {
  this.timeout(1_800_000);

  it('1 000 turns of 1 MiB requests: service memory stays flat and a turn does not slow down as the log grows', async () => {
    assertHeld(await soak({ turns: 1000, requestBytes: 2 ** 20, warmup: 50, maxGrowthBytes: 48 * 2 ** 20, maxSlowdown: 2 }), true);
  });
});
