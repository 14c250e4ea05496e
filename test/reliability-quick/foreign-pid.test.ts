import { foreignPid } from '../reliability/scenarios/foreign-pid.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): foreign process in the pid file', function () {
  this.timeout(60_000);

  it('status, stop, start and stop against a pid file naming processes that are not ours: none is signalled', async () => {
    assertHeld(await foreignPid({ rounds: 1 }));
  });
});
