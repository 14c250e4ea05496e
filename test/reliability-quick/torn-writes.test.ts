import { tornWrites } from '../reliability/scenarios/torn-writes.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): torn writes', function () {
  this.timeout(60_000);

  it('no reader sees a partial record while 40 lines arrive in small writes with pauses', async () => {
    assertHeld(await tornWrites({ lines: 40, maxChunk: 1024, maxPauseMs: 2 }));
  });
});
