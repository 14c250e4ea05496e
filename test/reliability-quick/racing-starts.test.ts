import { racingStarts } from '../reliability/scenarios/racing-starts.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): racing starts on one data dir', function () {
  this.timeout(60_000);

  it('3 starts at once on one data dir: one runs, the others are refused naming its pid', async () => {
    assertHeld(await racingStarts({ rounds: 1, starters: 3, configBytes: 300 * 1024 }));
  });
});
