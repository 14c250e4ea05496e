import { hostileInput } from './scenarios/hostile-input.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: hostile input', function () {
  this.timeout(600_000);

  it('1 000 random and crafted HTTP bodies and log lines: no crash, each bad one refused or skipped, valid ones stored losslessly', async () => {
    assertHeld(await hostileInput({ randomInputs: 500, nestingDepth: 1_000_000, numberDigits: 1_000_000, seed: 20261125, badResponsePayloads: false }), true);
  });
});
