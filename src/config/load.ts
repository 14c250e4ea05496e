import { readFile } from 'node:fs/promises';
import type { ZodIssue } from 'zod';
import { ConfigError } from '../errors.js';
import { resolveServiceConfig, type ServiceConfigInput } from './resolve.js';
import { CONFIG_FILE_KEYS, configFileSchema, type ConfigFile } from './schema.js';
import type { ServiceConfig } from './types.js';

export interface LoadConfigOptions {
  /** A YAML file with the snake_case keys of SPEC section 7. */
  configFile?: string;
  /** CLI flags: each one that is set wins over the file. */
  overrides?: ServiceConfigInput;
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads the config file (if any), lays the overrides over it, then applies env and defaults.
 * @returns the complete ServiceConfig.
 * @throws ConfigError naming the key and the file for an unknown key, a wrong type, an
 *   unreadable or malformed file, or recording_file together with replay_file.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ServiceConfig> {
  const fromFile = options.configFile === undefined ? {} : await readConfigFile(options.configFile);
  const overrides = definedOnly(options.overrides ?? {});
  refuseRecordingWithReplay(fromFile, overrides, options.configFile);
  const input: ServiceConfigInput = { ...fromFile, ...overrides };
  if (fromFile.retry !== undefined || overrides.retry !== undefined) {
    input.retry = { ...fromFile.retry, ...definedOnly(overrides.retry ?? {}) };
  }
  return resolveServiceConfig(input, options.env ?? process.env);
}

/**
 * Reads and validates one YAML config file.
 * @returns its settings as a ServiceConfigInput (camelCase, milliseconds).
 * @throws ConfigError naming the file (and the key) when it cannot be read, parsed or validated.
 */
export async function readConfigFile(file: string): Promise<ServiceConfigInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError(`config file ${file} cannot be read (${reason}): check the --config-file path`);
  }
  const { parse } = await import('yaml');
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  raw ??= {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file} must be a mapping of keys to values (such as "port: 8080"), got ${describe(raw)}`);
  }
  // An empty YAML value (`replay_file:`) reads as null; it means "not set", as in the reference's Optional fields.
  const present = Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([, v]) => v !== null));
  const parsed = configFileSchema.safeParse(present);
  if (!parsed.success) throw issueToError(parsed.error.issues[0]!, present, file);
  return toInput(parsed.data);
}

function toInput(f: ConfigFile): ServiceConfigInput {
  const retry = definedOnly({
    maxAttempts: f.retry_max_attempts,
    initialDelayMs: secondsToMs(f.retry_initial_delay),
    maxDelayMs: secondsToMs(f.retry_max_delay),
  });
  return definedOnly({
    type: f.type,
    host: f.host,
    port: f.port,
    dataDir: f.data_dir,
    bodyLimitBytes: f.body_limit,
    requestTimeoutMs: secondsToMs(f.request_timeout),
    proxyBaseUrl: f.proxy_base_url,
    proxyRules: f.proxy_rules,
    retryableStatusCodes: f.retryable_status_codes,
    retry: Object.keys(retry).length > 0 ? retry : undefined,
    recordingFile: f.recording_file,
    replayFile: f.replay_file,
    logLevel: f.log_level,
  });
}

function refuseRecordingWithReplay(fromFile: ServiceConfigInput, flags: ServiceConfigInput, file: string | undefined): void {
  const recording = flags.recordingFile !== undefined ? '--recording-file' : fromFile.recordingFile !== undefined ? `recording_file in ${file}` : undefined;
  const replay = flags.replayFile !== undefined ? '--replay-file' : fromFile.replayFile !== undefined ? `replay_file in ${file}` : undefined;
  if (recording !== undefined && replay !== undefined) {
    throw new ConfigError(
      `${recording} and ${replay} are both set: a replay serves a recording and records nothing. Remove one of them.`,
      'replay_file',
    );
  }
}

function issueToError(issue: ZodIssue, raw: Record<string, unknown>, file: string): ConfigError {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new ConfigError(
      `config file ${file}: unknown key "${key}"; the known keys are ${CONFIG_FILE_KEYS.join(', ')}`,
      key,
    );
  }
  const key = String(issue.path[0] ?? '');
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1);
  const value = issue.path.reduce<unknown>((v, p) => (v as Record<string | number, unknown> | undefined)?.[p], raw);
  const message = issue.code === 'invalid_type' ? `must be ${article(issue.expected)}` : issue.message;
  return new ConfigError(`config file ${file}: key "${where}" ${message.replace(/^Expected/, 'expected')}, got ${describe(value)}`, key);
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
