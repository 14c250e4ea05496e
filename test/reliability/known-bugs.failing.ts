/**
 * Reliability failures found in modules this suite does not own, kept here until their
 * owners fix them: neither `npm test` nor the reliability glob (`*.reliability.ts`) runs this
 * file. Run it with `npx mocha --no-config --node-option import=tsx --exit
 * test/reliability/known-bugs.failing.ts`. Each test names the file and the symptom.
 */
import { hostileInput } from './scenarios/hostile-input.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: known bugs (fail until fixed)', function () {
  this.timeout(300_000);

  // src/server/local-routes.ts (or the router): a response line whose payload is not JSON
  // reaches the agent as 200 with that text as an application/json body; one that is not
  // UTF-8 leaves the call waiting for ever. The runtime then takes the bad line as its answer
  // (a retry of that index is skipped), so the call cannot be repaired. Expected: a 502-style
  // OpenAI error for the call, or the line skipped and counted.
  it('src/server/local-routes.ts: a response payload that is not JSON or not UTF-8 gives the waiting call a clear error', async () => {
    assertHeld(await hostileInput({ randomInputs: 0, nestingDepth: 10, numberDigits: 10, seed: 1, badResponsePayloads: true }));
  });
});
