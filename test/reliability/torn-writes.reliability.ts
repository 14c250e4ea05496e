import { tornWrites } from './scenarios/torn-writes.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: torn writes', function () {
  this.timeout(600_000);

  it('no reader ever sees a partial record while 1 000 lines arrive a few bytes at a time', async () => {
    assertHeld(await tornWrites({ lines: 1000, maxChunk: 512, maxPauseMs: 1 }), true);
  });
});
