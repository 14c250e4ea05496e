import { restartAfterKill } from '../reliability/scenarios/restart.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): restart after SIGKILL', function () {
  this.timeout(60_000);

  it('a service killed mid-session restarts over its stale pid file, keeps the old log as .prev, and the runtime waiting across it fails clearly', async () => {
    assertHeld(await restartAfterKill({ cycles: 1, watchMs: 1000, runtimeAcrossRestart: true }));
  });
});
