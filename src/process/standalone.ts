/**
 * Whether this process is the standalone executable (a Node single executable application
 * built by scripts/sea.mjs) rather than Node running a script. There, `process.argv[1]` is
 * the executable as invoked, not a script to hand to a child, and nothing of the package is on
 * disk beside it.
 */

/** Returns true inside the standalone executable. */
export function isStandaloneExecutable(): boolean {
  // node:sea exists from Node 20.12 and getBuiltinModule from 20.16; an executable is always
  // built from a Node that has both, so an older Node is never one.
  const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() === true;
}
