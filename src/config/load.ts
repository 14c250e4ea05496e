import type { ZodIssue } from 'zod';
import { ConfigError } from '../errors.js';
import { MAX_CONFIG_FILE_BYTES } from './limits.js';
import { redactConfigUrl } from './redact-url.js';
import { readRegularFile } from './read-regular-file.js';
import { resolveServiceConfig, type ServiceConfigInput } from './resolve.js';
import { CONFIG_FILE_KEYS, configFileSchema, type ConfigFile } from './schema.js';
import type { ServiceConfig } from './types.js';

export interface LoadConfigOptions {
  /** A YAML file with snake_case keys (config/schema.ts). */
  configFile?: string;
  /** CLI flags: each one that is set wins over the file. */
  overrides?: ServiceConfigInput;
  env?: NodeJS.ProcessEnv;
}

/**
 * Reads the config file (if any), lays the overrides over it, then applies env and defaults.
 * @returns the complete ServiceConfig.
 * @throws ConfigError naming the key and the file for an unknown key, a wrong type, an
 *   unreadable or malformed file, one that is not a regular file or is over MAX_CONFIG_FILE_BYTES,
 *   a value out of its bounds, or recording_file together with replay_file.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ServiceConfig> {
  const fromFile = options.configFile === undefined ? {} : await readConfigFile(options.configFile);
  const overrides = definedOnly(options.overrides ?? {});
  refuseRecordingWithReplay(fromFile, overrides, options.configFile);
  const input: ServiceConfigInput = { ...fromFile, ...overrides };
  if (fromFile.retry !== undefined || overrides.retry !== undefined) {
    input.retry = { ...fromFile.retry, ...definedOnly(overrides.retry ?? {}) };
  }
  try {
    return resolveServiceConfig(input, options.env ?? process.env);
  } catch (err) {
    throw inFile(err, options.configFile, overrides);
  }
}

/** The file keys that a flag can also set, with the field the flag sets. */
const FLAG_FIELDS: Readonly<Record<string, keyof ServiceConfigInput>> = {
  type: 'type',
  host: 'host',
  port: 'port',
  proxy_base_url: 'proxyBaseUrl',
  retryable_status_codes: 'retryableStatusCodes',
  request_timeout: 'requestTimeoutMs',
  recording_file: 'recordingFile',
  replay_file: 'replayFile',
};

/** A bad value that no flag set came from the file: say so, as for the file's other errors. */
function inFile(err: unknown, file: string | undefined, overrides: ServiceConfigInput): unknown {
  if (!(err instanceof ConfigError) || file === undefined || err.key === undefined) return err;
  const field = FLAG_FIELDS[err.key];
  if (field !== undefined && overrides[field] !== undefined) return err;
  return new ConfigError(`config file ${file}: ${err.message}`, err.key);
}

/**
 * Reads and validates one YAML config file.
 * @returns its settings as a ServiceConfigInput (camelCase, milliseconds).
 * @throws ConfigError naming the file (and the key) when it cannot be read, parsed or validated.
 */
export async function readConfigFile(file: string): Promise<ServiceConfigInput> {
  const bytes = await readRegularFile(file, MAX_CONFIG_FILE_BYTES);
  if (!Buffer.isBuffer(bytes)) throw new ConfigError(`config file ${file} ${bytes.reason}: check the --config-file path`);
  const text = bytes.toString('utf8');
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
    responseLimitBytes: f.response_limit,
    recordMaxBytes: f.record_max_bytes,
    bodyTimeoutMs: secondsToMs(f.body_timeout),
    agentApiMode: f.agent_api_mode,
    models: f.models,
    livePage: f.live_page,
    heartbeatIntervalMs: secondsToMs(f.heartbeat_interval),
    maxOrphanedTurns: f.max_orphaned_turns,
    responsesStore:
      f.responses_store_max === undefined && f.responses_store_max_bytes === undefined
        ? undefined
        : definedOnly({ maxResponses: f.responses_store_max, maxBytes: f.responses_store_max_bytes }),
    maxTokensCap: f.max_tokens_cap,
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
  if (issue.code === 'unrecognized_keys' && issue.path.length > 0) {
    return new ConfigError(`config file ${file}: key "${where(issue)}" has an unknown key "${issue.keys[0]!}"`, String(issue.path[0]));
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return new ConfigError(
      `config file ${file}: unknown key "${key}"; the known keys are ${CONFIG_FILE_KEYS.join(', ')}`,
      key,
    );
  }
  const key = String(issue.path[0] ?? '');
  const value = issue.path.reduce<unknown>((v, p) => (v as Record<string | number, unknown> | undefined)?.[p], raw);
  if (issue.code === 'invalid_union') {
    // Report the alternative the value was meant as (a string, or a mapping): its own error says what is wrong.
    const meant = issue.unionErrors.map((e) => e.issues[0]!).find((i) => !(i.code === 'invalid_type' && i.path.length === issue.path.length));
    if (meant !== undefined) return issueToError(meant, raw, file);
    const message = key === 'proxy_rules' ? 'must be a URL, or a mapping {url, apis} naming the APIs its upstream speaks itself' : issue.message;
    return new ConfigError(`config file ${file}: key "${where(issue)}" ${message}, got ${describe(value, key)}`, key);
  }
  const message = issue.code === 'invalid_type' ? `must be ${article(issue.expected)}` : issue.message;
  return new ConfigError(`config file ${file}: key "${where(issue)}" ${message.replace(/^Expected/, 'expected')}, got ${describe(value, key)}`, key);
}

function where(issue: ZodIssue): string {
  return issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1);
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Keys whose values are upstream URLs, which may carry credentials (`https://user:key@host`). */
const URL_KEYS = new Set(['proxy_base_url', 'proxy_rules']);

function describe(value: unknown, key?: string): string {
  const redact = key !== undefined && URL_KEYS.has(key);
  const text = (redact ? JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? redactConfigUrl(v) : v)) : JSON.stringify(value)) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Not rounded: 0.0001 s must reach the bounds check as the 0.1 ms it is, not as 0 (no timeout at all). */
function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1e6) / 1e3;
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
