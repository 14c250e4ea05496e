/**
 * The native scanner inside the standalone executable: scripts/sea.mjs embeds the addon as a
 * SEA asset. Node loads an addon only from a file, so it is written into a fresh directory only
 * this user can enter (mkdtemp makes it 0700), loaded with process.dlopen and deleted at once:
 * the loaded mapping outlives the unlink, nothing stays in the temp dir, and no other user can
 * swap the file between the write and the load. docs/packaging.md has the figures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeLoadFailedError } from '../errors.js';

/** The asset's key in the executable, and the name of the file it is loaded from. */
export const EMBEDDED_ADDON = 'rock_model_service.node';

/**
 * Returns the embedded addon's exports, or undefined when the executable carries none.
 * @throws NativeLoadFailedError when the temp dir is not writable, or the binary cannot be
 *   loaded from it (a temp dir mounted noexec), with what to do: point TMPDIR elsewhere.
 */
export function loadEmbeddedAddon(): unknown {
  const sea = process.getBuiltinModule('node:sea');
  let bytes: ArrayBuffer;
  try {
    bytes = sea.getRawAsset(EMBEDDED_ADDON) as ArrayBuffer;
  } catch {
    return undefined;
  }
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'rock-model-service-'));
    const file = join(dir, EMBEDDED_ADDON);
    writeFileSync(file, new Uint8Array(bytes), { mode: 0o500 });
    const addon = { exports: {} };
    process.dlopen(addon, file, constants.dlopen.RTLD_NOW);
    return addon.exports;
  } catch (err) {
    throw new NativeLoadFailedError(
      `${(err as Error).message.split('\n')[0]} (the executable loads its native scanner from a file in ${tmpdir()}: ` +
        'set TMPDIR to a writable directory not mounted noexec, or ROCK_MS_SCANNER=ts)',
      { cause: err },
    );
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}
