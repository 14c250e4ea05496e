import { truncationAndReplacement } from './scenarios/truncation.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: truncation and replacement', function () {
  this.timeout(600_000);

  it('20 truncations, 20 replacements and 20 delete-and-re-creates under waiting calls, then 5 000 racing truncations, lose no call', async () => {
    assertHeld(await truncationAndReplacement({ rounds: 20, hangMs: 10_000, storm: 5000 }), true);
  });
});
