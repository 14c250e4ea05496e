import { concurrentLoad } from '../reliability/scenarios/load.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): load', function () {
  this.timeout(60_000);

  it('200 concurrent chat calls answered in random order each get their own reply', async () => {
    assertHeld(await concurrentLoad({ requests: 200 }));
  });
});
