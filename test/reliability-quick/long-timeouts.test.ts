import { longTimeouts } from '../reliability/scenarios/long-timeouts.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): timeouts past 2^31 ms', function () {
  this.timeout(60_000);

  it('runtime and service timeouts past 2^31 ms still wait after 1.5 s, then finish normally', async () => {
    assertHeld(await longTimeouts({ waitMs: 1500 }));
  });
});
