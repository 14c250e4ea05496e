import { restartAfterKill } from './scenarios/restart.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: restart after SIGKILL', function () {
  this.timeout(600_000);

  it('five SIGKILLs mid-session: each restart keeps the old log as .prev, sees through the stale pid file, and fails the waiting agent clearly', async () => {
    assertHeld(await restartAfterKill({ cycles: 5, watchMs: 2000, runtimeAcrossRestart: false }), true);
  });

  it('a runtime waiting (no --timeout) for request N+1 across a restart exits 1 with a clear error instead of taking the new session\'s request', async () => {
    assertHeld(await restartAfterKill({ cycles: 1, watchMs: 2000, runtimeAcrossRestart: true }), true);
  });
});
