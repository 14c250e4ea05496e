import { badLineInBatch, hostileInput } from './scenarios/hostile-input.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: hostile input', function () {
  this.timeout(600_000);

  it('1 000 random and crafted HTTP bodies and log lines: no crash, each bad one refused or skipped, valid ones stored losslessly', async () => {
    assertHeld(await hostileInput({ randomInputs: 500, nestingDepth: 1_000_000, numberDigits: 1_000_000, seed: 20261125, badResponsePayloads: false }), true);
  });

  it('a response line whose payload is not JSON, not UTF-8 or cut short gives the waiting call a 502 error, never the garbage with a 200', async () => {
    assertHeld(await hostileInput({ randomInputs: 0, nestingDepth: 1000, numberDigits: 1000, seed: 1, badResponsePayloads: true }), true);
  });

  it('a response line that is not UTF-8 fails only its own call: the good response appended with it is delivered', async () => {
    assertHeld(await badLineInBatch(), true);
  });
});
