import assert from 'node:assert/strict';
import { diskFull } from '../reliability/scenarios/disk-full.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): disk full', function () {
  this.timeout(60_000);

  it('a full and a nearly full data dir fail the call and the answer clearly, keep /health, and recover', async function () {
    const figures = await diskFull({ tmpfsBytes: 8 * 2 ** 20, cycles: 2, bigBytes: 512 * 1024 });
    // Mounting a tmpfs needs root (CAP_SYS_ADMIN); elsewhere this scenario cannot run.
    if (figures === null) this.skip();
    assert.ok(figures);
    assertHeld(figures);
  });
});
