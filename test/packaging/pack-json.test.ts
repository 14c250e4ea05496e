/**
 * `npm pack --json` runs the build (`prepare`) and prints the build's stdout into its own: the
 * JSON must still parse, so the build writes its tools' output to stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('npm pack --json', function () {
  this.timeout(300_000);

  it('prints JSON that parses, with the build running before it', () => {
    const result = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const packed = JSON.parse(result.stdout) as { name: string; files: { path: string }[] }[];
    assert.equal(packed[0]!.name, 'rock-model-service');
    assert.ok(packed[0]!.files.some((file) => file.path === 'dist/cli/main.js'));
  });
});
