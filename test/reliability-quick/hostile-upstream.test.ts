import { hostileUpstream } from '../reliability/scenarios/hostile-upstream.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): hostile upstream (proxy)', function () {
  this.timeout(60_000);

  it('an endless stream and body are cut at small limits with a record saying so; 300 000 logprobs entries pass unchanged and are recorded', async () => {
    assertHeld(await hostileUpstream({ endlessStreamMs: 1500, endlessBodyMs: 10_000, logprobsEntries: 300_000, responseLimitBytes: 16 * 2 ** 20 }));
  });
});
