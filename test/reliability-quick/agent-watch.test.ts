import { agentWatch } from '../reliability/scenarios/agent-watch.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): agent watch', function () {
  this.timeout(60_000);

  it('a zombie, a pid that never existed and a pid watched twice each end the session with exactly one SESSION_END', async () => {
    assertHeld(await agentWatch({ rounds: 1, settleMs: 1100 }));
  });
});
