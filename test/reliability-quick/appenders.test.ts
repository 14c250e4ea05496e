import { concurrentAppenders } from '../reliability/scenarios/concurrent-appenders.js';
import { availableEngines } from '../../src/scanner/load.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): concurrent appenders', function () {
  this.timeout(60_000);

  for (const engine of availableEngines()) {
    it(`three processes appending 900 lines of 10 B to 1 MiB at once lose nothing (${engine.kind} engine)`, async () => {
      assertHeld(await concurrentAppenders({ lines: 900, plan: { bigEvery: 150, bigBytes: 2 ** 20, mediumShare: 0.05 }, engines: [engine] }));
    });
  }
});
