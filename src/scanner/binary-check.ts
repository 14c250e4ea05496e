/**
 * Checks a native binary before `dlopen` sees it. dlopen maps the file's segments as they
 * are: a binary cut short maps pages past the file's end, and the first touch of one raises
 * SIGBUS (or SIGSEGV) in every command, with no message (issue 14, break 8). A size and a
 * SHA-256 recorded when the platform package was packed catch truncation and any flipped
 * byte; a local build has no record, so its ELF structure is checked against its size instead.
 * Measured here (Node 20.20, best of 20 fresh processes): loading node:crypto and the first
 * SHA-256 of the 83 KB binary cost 0.37 ms together (a later hash 60 us), next to 1.3 ms for
 * the dlopen itself.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

// node:crypto is loaded only when a manifest is checked, and with require: an ESM import of it
// (which builds its whole namespace) cost 4.6 ms in a fresh process here, require 0.37 ms
// with the hash.
const require = createRequire(import.meta.url);

/** What `npm run package` records in the platform package's package.json, under `rockModelService.binary`. */
export interface BinaryManifest {
  /** The binary's file name, in the package's directory. */
  file: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
}

/** Returns the manifest in a platform package's package.json, or null when it has none (or a malformed one). */
export function manifestOf(packageJson: unknown): BinaryManifest | null {
  const binary = (packageJson as { rockModelService?: { binary?: Partial<BinaryManifest> } } | null)?.rockModelService?.binary;
  if (binary === undefined || binary === null || typeof binary !== 'object') return null;
  const { file, size, sha256 } = binary;
  if (typeof file !== 'string' || !/^[\w.-]+\.node$/.test(file)) return null;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) return null;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return null;
  return { file, size, sha256 };
}

/** Returns the file's bytes, or the reason it cannot be read as a regular file. */
function readRegularFile(path: string): Buffer | string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return `cannot be opened (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'is not a regular file';
    const bytes = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return bytes.subarray(0, got);
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  } finally {
    closeSync(fd);
  }
}

/** Returns why the binary at `path` does not match `manifest` (size, then SHA-256), or null when it does. */
export function manifestProblem(path: string, manifest: BinaryManifest): string | null {
  const bytes = readRegularFile(path);
  if (typeof bytes === 'string') return `the binary ${path} ${bytes}`;
  if (bytes.length !== manifest.size) {
    return `the binary ${path} is ${bytes.length} bytes, but its package recorded ${manifest.size}: it is truncated or damaged`;
  }
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.sha256) {
    return `the binary ${path} has SHA-256 ${sha256}, but its package recorded ${manifest.sha256}: it is damaged`;
  }
  return null;
}

const ELF_MAGIC = 0x464c457f;
const PT_LOAD = 1;

/**
 * Returns why the ELF file at `path` cannot be whole (a segment or the section table lies past
 * its end), or null when its structure fits its size or it is no ELF file at all (dlopen
 * refuses those cleanly). Little-endian ELF32 and ELF64 are understood.
 */
export function elfProblem(path: string): string | null {
  const bytes = readRegularFile(path);
  if (typeof bytes === 'string') return `the binary ${path} ${bytes}`;
  if (bytes.length < 52 || bytes.readUInt32LE(0) !== ELF_MAGIC || bytes[5] !== 1) return null;
  const is64 = bytes[4] === 2;
  if (is64 && bytes.length < 64) return `the binary ${path} is ${bytes.length} bytes, shorter than its ELF header`;
  const word = (at: number): number => (is64 ? Number(bytes.readBigUInt64LE(at)) : bytes.readUInt32LE(at));
  const phoff = word(is64 ? 0x20 : 0x1c);
  const shoff = word(is64 ? 0x28 : 0x20);
  const phentsize = bytes.readUInt16LE(is64 ? 0x36 : 0x2a);
  const phnum = bytes.readUInt16LE(is64 ? 0x38 : 0x2c);
  const shentsize = bytes.readUInt16LE(is64 ? 0x3a : 0x2e);
  const shnum = bytes.readUInt16LE(is64 ? 0x3c : 0x30);
  const cut = (what: string, end: number): string =>
    `the binary ${path} is ${bytes.length} bytes, but its ${what} runs to byte ${end}: it is truncated; rebuild it (npm run build)`;
  if (shoff + shnum * shentsize > bytes.length) return cut('section table', shoff + shnum * shentsize);
  if (phoff + phnum * phentsize > bytes.length) return cut('program headers', phoff + phnum * phentsize);
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * phentsize;
    if (bytes.readUInt32LE(h) !== PT_LOAD) continue;
    const offset = word(h + (is64 ? 0x08 : 0x04));
    const fileSize = word(h + (is64 ? 0x20 : 0x10));
    if (offset + fileSize > bytes.length) return cut(`loadable segment ${i}`, offset + fileSize);
  }
  return null;
}
