import { unfinishedBodies } from '../reliability/scenarios/unfinished-bodies.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): unfinished request bodies', function () {
  this.timeout(60_000);

  it('unfinished bodies at small limits: memory bounded, every connection answered and closed within the body timeout and the lingering close', async () => {
    assertHeld(await unfinishedBodies({ fastConnections: 4, bodyBytes: 16 * 2 ** 20, slowConnections: 2, bodyTimeoutMs: 2000, bodyBudgetBytes: 8 * 2 ** 20, graceMs: 4000 }));
  });
});
