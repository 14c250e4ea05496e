import { agentWatch } from './scenarios/agent-watch.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: agent watch', function () {
  this.timeout(600_000);

  it('zombie agents, pids that never existed and pids watched twice each end their session with exactly one SESSION_END (5 rounds)', async () => {
    assertHeld(await agentWatch({ rounds: 5, settleMs: 2500 }), true);
  });
});
