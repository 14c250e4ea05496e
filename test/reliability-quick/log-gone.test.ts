import { logGone } from '../reliability/scenarios/log-gone.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): data dir deleted under load', function () {
  this.timeout(60_000);

  it('the data dir deleted twice under load: no hang, 503 RMS_LOG_UNAVAILABLE while gone, turns go on once it is back', async () => {
    assertHeld(await logGone({ agents: 4, cycles: 2, outageMs: 500, steadyMs: 1000, hangMs: 15_000 }));
  });
});
