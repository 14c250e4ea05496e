import { racingAnswers } from './scenarios/racing-answers.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: runtimes racing to answer one index', function () {
  this.timeout(900_000);

  it('30 indexes each answered by 4 runtimes at once (CLI, lock-step processes, one process): one line per index, the agent gets it, the others are told', async () => {
    assertHeld(await racingAnswers({ trials: 30, runtimes: 4 }), true);
  });
});
