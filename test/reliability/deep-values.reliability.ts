import { deepValues } from './scenarios/deep-values.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: deep values', function () {
  this.timeout(900_000);

  it('values 100 to 100 000 deep in a proxied delta and in a local reply: passed unchanged, recorded (cut and marked past 1 000), streamed as written', async () => {
    assertHeld(await deepValues({ depths: [100, 900, 1000, 20_000, 100_000] }), true);
  });
});
