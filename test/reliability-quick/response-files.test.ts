import { responseFiles } from '../reliability/scenarios/response-files.js';
import { assertHeld } from '../reliability/support/assert-held.js';

describe('reliability (quick): response files that are not regular files', function () {
  this.timeout(60_000);

  it('files, links, pipes, fifos and a directory as --response-file: only a regular file is deleted, every turn advances', async () => {
  // /dev/stdin is left to the full run: on code that unlinks it, as root, this machine's /dev/stdin would go.
    assertHeld(await responseFiles({ rounds: 1, responseBytes: 96 * 1024, devStdin: false }));
  });
});
