import { racingStarts } from './scenarios/racing-starts.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: racing starts on one data dir', function () {
  this.timeout(900_000);

  it('5 rounds of 4 starts at once from 4 working dirs on one data dir with a 200 KiB config: exactly one runs, the others name it, each index is in the log once', async () => {
    assertHeld(await racingStarts({ rounds: 5, starters: 4, configBytes: 200 * 1024 }), true);
  });
});
