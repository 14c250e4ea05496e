import { racingAnswers } from '../reliability/scenarios/racing-answers.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): runtimes racing to answer one index', function () {
  this.timeout(60_000);

  it('3 indexes each answered by 3 runtimes at once: one line per index, the agent gets it, the others are told', async () => {
    assertHeld(await racingAnswers({ trials: 3, runtimes: 3 }));
  });
});
