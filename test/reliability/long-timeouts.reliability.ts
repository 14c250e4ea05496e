import { longTimeouts } from './scenarios/long-timeouts.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: timeouts past 2^31 ms', function () {
  this.timeout(900_000);

  it('anti-call-llm --timeout 2147484 / 1e9 / 1 year, popRequest 2^32 ms and start --request-timeout 30 days still wait after 10 s, then finish normally', async () => {
    assertHeld(await longTimeouts({ waitMs: 10_000 }), true);
  });
});
