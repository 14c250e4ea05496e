import { unfinishedBodies } from './scenarios/unfinished-bodies.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: unfinished request bodies', function () {
  this.timeout(900_000);

  it('16 connections x 60 MiB of chunked body never finished and 16 slow ones at the default limits: memory bounded by the body budget, every connection answered and closed', async () => {
    assertHeld(await unfinishedBodies({ fastConnections: 16, bodyBytes: 60 * 2 ** 20, slowConnections: 16, graceMs: 15_000 }), true);
  });
});
