import { symlinks } from '../reliability/scenarios/symlinks.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): symbolic links where we write', function () {
  this.timeout(60_000);

  it('links at start and swapped in for the log of a running service: refused, nothing written through them, the service goes on', async () => {
    assertHeld(await symlinks({ swaps: 2, agents: 2, swapMs: 300 }));
  });
});
