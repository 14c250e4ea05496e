import { logGone } from './scenarios/log-gone.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: data dir deleted under load', function () {
  this.timeout(900_000);

  it('10 delete-and-re-create cycles of the data dir under 16 agents: every call ends with its own reply or 503 RMS_LOG_UNAVAILABLE, and turns go on once the dir is back', async () => {
    assertHeld(await logGone({ agents: 16, cycles: 10, outageMs: 2000, steadyMs: 2000, hangMs: 30_000 }), true);
  });
});
