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

/** The asset's key in the executable, and the name of the file it is loaded from. */
export const EMBEDDED_ADDON = 'rock_model_service.node';

/**
 * Returns the embedded addon's exports, or undefined when the executable carries none.
 * @throws the file system's error when the temp dir is not writable, and dlopen's when the
 *   binary cannot be loaded there (a temp dir mounted noexec: set TMPDIR to another one).
 */
export function loadEmbeddedAddon(): unknown {
  const sea = process.getBuiltinModule('node:sea');
  let bytes: ArrayBuffer;
  try {
    bytes = sea.getRawAsset(EMBEDDED_ADDON) as ArrayBuffer;
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rock-model-service-'));
  try {
    const file = join(dir, EMBEDDED_ADDON);
    writeFileSync(file, new Uint8Array(bytes), { mode: 0o500 });
    const addon = { exports: {} };
    process.dlopen(addon, file, constants.dlopen.RTLD_NOW);
    return addon.exports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
