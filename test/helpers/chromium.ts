/**
 * A real headless Chromium for the page tests, from the npm registry: `@sparticuz/chromium`
 * (a Chromium build packed for machines with nothing else installed) driven by
 * `puppeteer-core`. They are installed at test time into a cache under the system temp dir
 * (about 110 MB, once per machine, about 10 s) rather than as devDependencies: every `npm ci`
 * of the project, in every sandbox and CI run, would otherwise download a browser that only
 * these tests use. Versions are pinned here; the cache directory names them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const CHROMIUM = '@sparticuz/chromium@153.0.0';
const PUPPETEER = 'puppeteer-core@25.16.0';
const CACHE = join(tmpdir(), 'rock-model-service-test-cache', 'chromium-153.0.0-puppeteer-25.16.0');

/** The little of puppeteer's API the tests use (it is not a dependency, so its types are not either). */
export interface BrowserPage {
  goto(url: string, options?: { waitUntil?: string; timeout?: number }): Promise<unknown>;
  evaluate<T>(fn: string | ((...args: never[]) => T), ...args: unknown[]): Promise<T>;
  waitForFunction(fn: string, options?: { timeout?: number; polling?: number | string }): Promise<unknown>;
  type(selector: string, text: string): Promise<void>;
  click(selector: string): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean; clip?: { x: number; y: number; width: number; height: number } }): Promise<unknown>;
  setViewport(viewport: { width: number; height: number; deviceScaleFactor?: number }): Promise<void>;
  setContent(html: string, options?: { waitUntil?: string }): Promise<void>;
  metrics(): Promise<Record<string, number>>;
  on(event: 'console', listener: (message: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  on(event: 'requestfailed' | 'request', listener: (request: { url(): string }) => void): void;
  close(): Promise<void>;
}
export interface Browser {
  newPage(): Promise<BrowserPage>;
  close(): Promise<void>;
}

async function installed(): Promise<string> {
  if (existsSync(join(CACHE, 'node_modules', 'puppeteer-core', 'package.json'))) return CACHE;
  mkdirSync(join(CACHE, '..'), { recursive: true });
  // Install beside the cache and rename: a run that dies half-way leaves no half cache.
  const staging = mkdtempSync(`${CACHE}.staging-`);
  try {
    writeFileSync(join(staging, 'package.json'), '{"private":true}\n');
    await promisify(execFile)('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', CHROMIUM, PUPPETEER], { cwd: staging, timeout: 300_000 });
    if (!existsSync(CACHE)) renameSync(staging, CACHE);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return CACHE;
}

/** Launches headless Chromium (installing it into the cache first when needed). */
export async function launchChromium(): Promise<Browser> {
  const root = await installed();
  const load = (name: string, entry: string): Promise<{ default: unknown }> => import(pathToFileURL(join(root, 'node_modules', name, entry)).href);
  const chromium = (await load('@sparticuz/chromium', 'build/index.js')).default as { args: string[]; executablePath(): Promise<string> };
  const puppeteer = (await load('puppeteer-core', 'lib/puppeteer/puppeteer-core.js')).default as {
    launch(options: { args: string[]; executablePath: string; headless: boolean }): Promise<Browser>;
  };
  return puppeteer.launch({ args: chromium.args, executablePath: await chromium.executablePath(), headless: true });
}
