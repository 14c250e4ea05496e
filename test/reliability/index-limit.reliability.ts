import { indexLimit } from './scenarios/index-limit.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: indexes past 2^53', function () {
  this.timeout(900_000);

  it('30 turns of a live session, each after a hostile index through the CLI and the library: every one refused with nothing written, the session goes on', async () => {
    assertHeld(await indexLimit({ turns: 30 }), true);
  });
});
