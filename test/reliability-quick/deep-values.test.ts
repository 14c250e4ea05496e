import { deepValues } from '../reliability/scenarios/deep-values.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): deep values', function () {
  this.timeout(60_000);

  it('a 20 000-deep value in a proxied delta and in a local reply: passed unchanged, recorded, streamed as written', async () => {
    assertHeld(await deepValues({ depths: [100, 20_000] }));
  });
});
