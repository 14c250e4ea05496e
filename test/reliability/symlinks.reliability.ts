import { symlinks } from './scenarios/symlinks.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: symbolic links where we write', function () {
  this.timeout(900_000);

  it('links at the log, pid.txt, service.json and service.log are refused at start, the runtime refuses a linked log, and 20 links swapped in under load write nothing through them', async () => {
    assertHeld(await symlinks({ swaps: 20, agents: 8, swapMs: 300 }), true);
  });
});
