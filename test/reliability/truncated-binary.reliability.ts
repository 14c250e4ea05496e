import { truncatedBinary } from './scenarios/truncated-binary.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: damaged native binary', function () {
  this.timeout(900_000);

  it('the binary cut to 14 sizes from 1 000 B to one byte short, and 64 bytes of .text overwritten: status, anti-call-llm, start and stop fall back to TypeScript with the reason, none dies of a signal', async () => {
    assertHeld(await truncatedBinary({ sizes: [1000, 4096, 8192, 16_384, 24_576, 32_768, 40_960, 49_152, 57_344, 61_400, 62_000, 65_536, 80_000], withStart: true }), true);
  });
});
