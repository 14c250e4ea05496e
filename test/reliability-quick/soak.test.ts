import { soak } from '../reliability/scenarios/soak.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): soak', function () {
  this.timeout(60_000);

  it('50 turns of 1 MiB requests lose nothing and leave the service heap flat', async () => {
    assertHeld(await soak({ turns: 50, requestBytes: 2 ** 20, warmup: 10, maxGrowthBytes: 48 * 2 ** 20, maxSlowdown: 4 }));
  });
});
