import { concurrentLoad } from './scenarios/load.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: load', function () {
  this.timeout(600_000);

  for (const scanner of ['native', 'ts'] as const) {
    it(`1 000 concurrent chat calls answered in random order each get their own reply (${scanner} scanner in the service)`, async () => {
      assertHeld(await concurrentLoad({ requests: 1000, scanner }), true);
    });
  }
});
