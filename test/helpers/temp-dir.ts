/** Temporary directories for tests: one way to make them, one to remove them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Returns a fresh directory under the system temp dir, named `rms-<prefix>-XXXXXX`; remove it with removeDir. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rms-${prefix}-`));
}

/** Removes a directory and everything in it; a missing one is no error. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
