import { hostileUpstream } from './scenarios/hostile-upstream.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: hostile upstream (proxy)', function () {
  this.timeout(900_000);

  it('an endless SSE stream for 25 s, an endless plain body and 300 000 logprobs entries in one chunk: the proxy stays up within its bounds, every call leaves one record, cuts are marked', async () => {
    assertHeld(await hostileUpstream({ endlessStreamMs: 25_000, endlessBodyMs: 60_000, logprobsEntries: 300_000 }), true);
  });
});
