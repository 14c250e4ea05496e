import { foreignPid } from './scenarios/foreign-pid.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: foreign process in the pid file', function () {
  this.timeout(900_000);

  it('3 rounds of status, stop, start, stop against a pid file naming a RocketMQ broker or a look-alike of our service: none is signalled, our own service starts and stops', async () => {
    assertHeld(await foreignPid({ rounds: 3 }), true);
  });
});
