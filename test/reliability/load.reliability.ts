import { concurrentLoad } from './scenarios/load.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: load', function () {
  this.timeout(600_000);

  it('1 000 concurrent chat calls answered in random order each get their own reply (native scanner)', async () => {
    assertHeld(await concurrentLoad({ requests: 1000, scanner: 'native' }), true);
  });
});
