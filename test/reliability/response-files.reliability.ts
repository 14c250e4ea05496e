import { responseFiles } from './scenarios/response-files.js';
import { assertHeld } from './support/assert-held.js';

describe('reliability: response files that are not regular files', function () {
  this.timeout(900_000);

  it('3 rounds of files, links, pipes, fifos, a directory and /dev/stdin as --response-file in a live session: only a regular file is deleted, what cannot be read is refused, every turn advances', async () => {
    assertHeld(await responseFiles({ rounds: 3, responseBytes: 256 * 1024, devStdin: true }), true);
  });
});
