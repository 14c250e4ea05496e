import { truncationAndReplacement } from '../reliability/scenarios/truncation.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): truncation and replacement', function () {
  this.timeout(60_000);

  it('a truncation, a replacement and a delete-and-re-create under a waiting call and a waiting runtime lose nothing', async () => {
    assertHeld(await truncationAndReplacement({ rounds: 1, hangMs: 10_000, storm: 300 }));
  });
});
