import { badLineInBatch, hostileInput } from '../reliability/scenarios/hostile-input.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): hostile input', function () {
  this.timeout(60_000);

  it('crafted and random bodies and log lines: no crash, bad ones refused or skipped, valid ones stored and answered, bad response payloads a 502', async () => {
    assertHeld(await hostileInput({ randomInputs: 10, nestingDepth: 100_000, numberDigits: 100_000, seed: 7, badResponsePayloads: true }));
  });

  it('a response line that is not UTF-8 fails only its own call, not the good response scanned with it', async () => {
    assertHeld(await badLineInBatch());
  });
});
