/**
 * The package's version, read once from its package.json. The published bundle replaces this
 * module's read with the version as a constant (esbuild `define`), so the standalone
 * executable, which has no package.json beside it, knows it too.
 */
import { createRequire } from 'node:module';

export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
