import assert from 'node:assert/strict';
import { diskFull } from './scenarios/disk-full.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: disk full', function () {
  this.timeout(600_000);

  it('20 fill-and-free cycles of the data dir: calls and answers fail clearly with no torn line, health holds, all recovers', async function () {
    const figures = await diskFull({ tmpfsBytes: 16 * 2 ** 20, cycles: 20, bigBytes: 2 ** 20 });
    // Mounting a tmpfs needs root (CAP_SYS_ADMIN); elsewhere this scenario cannot run.
    if (figures === null) this.skip();
    assert.ok(figures);
    assertHeld(figures, true);
  });
});
