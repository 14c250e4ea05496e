/**
 * The real coding agents, installed at test time: each pinned package is installed once with npm
 * into `$TMPDIR/rms-agents/<package>@<version>` and reused across runs. They are never
 * devDependencies (about 760 MB together). A lock directory keeps parallel test files, examples
 * and worktrees from installing the same package twice; the install goes to a staging directory
 * that is renamed into place only once the binary answers `--version`, so a half-done install
 * (killed, disk full) is never taken for a good one.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessGone } from '../../src/process/process-state.js';

export interface AgentPackage {
  /** The npm package. */
  name: string;
  /** The exact version installed (pinned: the tests assert what this version sends). */
  version: string;
  /** The binary's name in `node_modules/.bin`. */
  bin: string;
  /** What npm installs, when not `<name>@<version>` (a tarball path, in the installer's own tests). */
  spec?: string;
}

export const CLAUDE_CODE: AgentPackage = { name: '@anthropic-ai/claude-code', version: '2.1.328', bin: 'claude' };
export const CODEX: AgentPackage = { name: '@openai/codex', version: '0.169.0', bin: 'codex' };

export interface InstalledAgent {
  package: AgentPackage;
  /** The directory holding `node_modules`. */
  dir: string;
  /** The absolute path of the agent's executable. */
  binPath: string;
  /** True when this call installed it; false when the cache already had it. */
  installedNow: boolean;
  /** How long the install took when it was done (now or in an earlier run). */
  installMs: number;
  /** Bytes on disk, hard links counted once. */
  bytes: number;
}

export interface InstallOptions {
  /** Default: `$RMS_AGENT_CACHE`, else `<os.tmpdir()>/rms-agents`. */
  cacheRoot?: string;
  /** The whole install (download, postinstall, check) is bounded by this. Default 600 s. */
  timeoutMs?: number;
  /** Progress lines (installing, waiting for another process's install). */
  log?: (line: string) => void;
}

/** What the cache directory keeps beside `node_modules` once an install is complete. */
interface ReadyMarker {
  name: string;
  version: string;
  binPath: string;
  installMs: number;
  bytes: number;
  installedAt: string;
}

const READY_FILE = 'rms-ready.json';
const LOCK_POLL_MS = 250;

/** Returns the default cache root: `$RMS_AGENT_CACHE` or `<os.tmpdir()>/rms-agents`. */
export function agentCacheRoot(): string {
  return process.env.RMS_AGENT_CACHE ?? join(tmpdir(), 'rms-agents');
}

/**
 * Returns the agent, installing it first unless the cache has it.
 * @throws AgentInstallError when npm fails, the binary does not answer `--version`, or the bound passes.
 */
export async function installAgent(pkg: AgentPackage, options: InstallOptions = {}): Promise<InstalledAgent> {
  const root = options.cacheRoot ?? agentCacheRoot();
  const timeoutMs = options.timeoutMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  const dir = join(root, `${pkg.name.replace('/', '+')}@${pkg.version}`);
  mkdirSync(root, { recursive: true });
  for (;;) {
    const ready = readReady(dir, pkg);
    if (ready) return { package: pkg, dir, binPath: ready.binPath, installedNow: false, installMs: ready.installMs, bytes: ready.bytes };
    if (takeLock(`${dir}.lock`)) {
      try {
        // Another process may have finished between our look and our lock.
        const late = readReady(dir, pkg);
        if (late) return { package: pkg, dir, binPath: late.binPath, installedNow: false, installMs: late.installMs, bytes: late.bytes };
        const marker = await installInto(dir, pkg, deadline, options.log);
        return { package: pkg, dir, binPath: marker.binPath, installedNow: true, installMs: marker.installMs, bytes: marker.bytes };
      } finally {
        rmSync(`${dir}.lock`, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw new AgentInstallError(pkg, `another process held ${dir}.lock for the whole ${timeoutMs} ms; remove it if no install is running`);
    options.log?.(`waiting for another process to install ${pkg.name}@${pkg.version}`);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

export class AgentInstallError extends Error {
  constructor(pkg: AgentPackage, reason: string) {
    super(`could not install ${pkg.name}@${pkg.version} for the agent tests: ${reason}`);
    this.name = 'AgentInstallError';
  }
}

function readReady(dir: string, pkg: AgentPackage): ReadyMarker | undefined {
  try {
    const marker = JSON.parse(readFileSync(join(dir, READY_FILE), 'utf8')) as ReadyMarker;
    if (marker.name !== pkg.name || marker.version !== pkg.version || !existsSync(marker.binPath)) return undefined;
    return marker;
  } catch {
    return undefined;
  }
}

/**
 * mkdir is atomic: whoever creates the lock directory owns it. A lock whose owner is gone
 * (killed mid-install) is broken and taken over.
 */
function takeLock(lockDir: string): boolean {
  try {
    mkdirSync(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // The owner has made the directory but not yet written its pid: a live owner, unless the lock is old.
      const stat = statSync(lockDir, { throwIfNoEntry: false });
      if (!stat) return takeLock(lockDir);
      if (Date.now() - stat.mtimeMs < 10_000) return false;
    }
    if (Number.isInteger(owner) && owner > 0 && !isProcessGone(owner)) return false;
    rmSync(lockDir, { recursive: true, force: true });
    return takeLock(lockDir);
  }
  writeFileSync(join(lockDir, 'pid'), String(process.pid));
  return true;
}

async function installInto(dir: string, pkg: AgentPackage, deadline: number, log?: (line: string) => void): Promise<ReadyMarker> {
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: 'rms-agent-cache', private: true }));
  log?.(`installing ${pkg.name}@${pkg.version} into ${dir} (once; later runs reuse it)`);
  const started = Date.now();
  try {
    const npm = await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--prefer-offline', '--loglevel=error', pkg.spec ?? `${pkg.name}@${pkg.version}`], staging, deadline, { npm_config_update_notifier: 'false' });
    if (npm.code !== 0) throw new AgentInstallError(pkg, `npm install exited ${npm.code}: ${tail(npm.output)}`);
    const stagedBin = join(staging, 'node_modules', '.bin', pkg.bin);
    let check = await run(stagedBin, ['--version'], staging, deadline);
    if (check.code !== 0 || !check.output.includes(pkg.version)) {
      // The package's postinstall puts the native binary in place; an npm that blocks install
      // scripts leaves a stub. Running the script ourselves is what `npm rebuild` would do.
      const pkgDir = join(staging, 'node_modules', ...pkg.name.split('/'));
      const scripts = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts;
      if (scripts?.postinstall) {
        log?.(`${pkg.name}: running its postinstall (${scripts.postinstall}), which npm did not run`);
        await run('sh', ['-c', scripts.postinstall], pkgDir, deadline);
        check = await run(stagedBin, ['--version'], staging, deadline);
      }
    }
    if (check.code !== 0 || !check.output.includes(pkg.version)) {
      throw new AgentInstallError(pkg, `${pkg.bin} --version answered ${check.code}: ${tail(check.output)}`);
    }
    const installMs = Date.now() - started;
    const bytes = diskBytes(staging);
    renameSync(staging, dir);
    const marker: ReadyMarker = { name: pkg.name, version: pkg.version, binPath: join(dir, 'node_modules', '.bin', pkg.bin), installMs, bytes, installedAt: new Date().toISOString() };
    writeFileSync(join(dir, READY_FILE), JSON.stringify(marker, null, 2));
    log?.(`installed ${pkg.name}@${pkg.version} in ${(installMs / 1000).toFixed(1)} s, ${(bytes / 1e6).toFixed(0)} MB`);
    return marker;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

function run(command: string, args: string[], cwd: string, deadline: number, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Date.now() >= deadline ? `${output}\n(killed: the install's time bound passed)` : output });
    });
  });
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 800 ? `…${trimmed.slice(-800)}` : trimmed;
}

/** Bytes on disk under `dir`, each inode counted once (Claude Code's binary is hard-linked twice). */
function diskBytes(dir: string): number {
  const seen = new Set<number>();
  let total = 0;
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    if (seen.has(stat.ino)) return;
    seen.add(stat.ino);
    total += stat.blocks * 512;
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(dir);
  return total;
}
