// Where `npm run package` puts the standalone executable: next to the tarballs, in the project root.
import { join } from 'node:path';

/** The standalone executable's file name for this machine (Linux x64 only, see scripts/sea.mjs). */
export const SEA_NAME = `rock-model-service-${process.platform}-${process.arch}`;

/** Returns the standalone executable's path in the project at `root`. */
export function seaExecutablePath(root) {
  return join(root, SEA_NAME);
}
