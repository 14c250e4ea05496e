import { indexLimit } from '../reliability/scenarios/index-limit.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): indexes past 2^53', function () {
  this.timeout(60_000);

  it('hostile indexes through the CLI and the library are refused before a byte is written, and the session goes on', async () => {
    assertHeld(await indexLimit({ turns: 6 }));
  });
});
