import { truncatedBinary } from '../reliability/scenarios/truncated-binary.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): damaged native binary', function () {
  this.timeout(60_000);

  it('the binary cut to 3 sizes and overwritten in .text: status and anti-call-llm fall back to TypeScript with the reason, none dies of a signal', async () => {
    assertHeld(await truncatedBinary({ sizes: [1000, 30_000, 62_000], withStart: false }));
  });
});
