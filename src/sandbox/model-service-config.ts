import { ConfigError } from '../errors.js';
import { VERSION } from '../version.js';
import { checkTemplate, type TemplateVariable } from './command-template.js';

/**
 * ROCK's `runtime_env_config`: the Python runtime its CLI runs in, spelled as in ROCK's
 * TypeScript SDK. rock-model-service needs no Python, so only `env` (added to the environment
 * of every command ModelService runs, as ROCK's runtime session has it), `customInstallCmd` (run
 * first by install(), as ROCK runs it after setting up the runtime) and `installTimeout` (that
 * command's time limit, seconds) take effect; the other fields are accepted and ignored, with a warning.
 */
export interface RuntimeEnvConfig {
  type?: string;
  version?: string;
  env?: Readonly<Record<string, string>>;
  installTimeout?: number;
  customInstallCmd?: string | null;
  extraSymlinkDir?: string | null;
  extraSymlinkExecutables?: readonly string[];
  pip?: readonly string[] | string | null;
  pipIndexUrl?: string | null;
}

/**
 * Where install() gets the service from instead of the npm registry: the tarballs of
 * `npm run package` (the main one and the platform one), or the standalone executable. Paths are
 * on this machine; install() uploads them into the sandbox.
 */
export type InstallFrom = { tarballs: readonly string[] } | { executable: string };

/**
 * How the orchestrator installs, starts, stops and drives the model service inside a sandbox:
 * ROCK's `ModelServiceConfig` fields in camelCase (snake_case spellings are accepted too),
 * durations in seconds as there, and a few of ours marked "Not in ROCK".
 */
export interface ModelServiceConfig {
  /** Read by whoever manages the lifecycle for you (ROCK's RockAgent); ModelService itself ignores it. */
  enabled: boolean;
  type: 'local' | 'proxy';
  /**
   * Run by install(), as written. With `installFrom` it is a template that must use
   * `${install_files}` (the uploaded files) and may use `${install_bin_dir}`; its default then
   * installs those files (see DEFAULT_INSTALL_CMDS).
   */
  installCmd: string;
  /** Seconds. */
  installTimeout: number;
  /** ROCK's Python runtime; see RuntimeEnvConfig for the fields that take effect here. */
  runtimeEnvConfig: Readonly<RuntimeEnvConfig>;
  /** May use `${type}`. */
  startCmd: string;
  stopCmd: string;
  /**
   * ROCK creates `~/.rock/config.ini` for its Python CLI before installing. Ours reads no
   * config.ini, so the default is none (''); a command given here is run by install() before installCmd.
   */
  configIniCmd: string;
  /** Must use `${pid}`. */
  watchAgentCmd: string;
  /** Must use `${index}` and `${response_payload}`, unquoted (the payload is quoted for you). */
  antiCallLlmCmd: string;
  /** Must use `${index}` and `${response_file}`, unquoted; used for payloads too big for a command line. */
  antiCallLlmCmdFile: string;
  /** Must use `${index}`. */
  antiCallLlmCmdNoResponse: string;
  /** Exported as ROCK_LOGGING_PATH to the service. */
  loggingPath: string;
  /** Exported as ROCK_LOGGING_FILE_NAME to the service. */
  loggingFileName: string;
  /** Not in ROCK: seconds that start, stop, watch-agent and the health check may take before they are killed. */
  commandTimeout: number;
  /**
   * Not in ROCK: where the private upload directory is made (`mktemp -d`, mode 0700, removed by
   * stop()). '' (the default) is the sandbox's `$TMPDIR`, else /tmp.
   */
  responseFileDir: string;
  /** Not in ROCK: install from uploaded tarballs or the standalone executable instead of the registry; null: the registry. */
  installFrom: Readonly<InstallFrom> | null;
  /** Not in ROCK: where the default installCmd puts the standalone executable as `rock` (it must be on the sandbox's PATH). */
  installBinDir: string;
  /** Not in ROCK: run after startCmd; start() fails unless it exits 0, i.e. unless the service answers. */
  healthCheckCmd: string;
}

/** Fields of ROCK 1.0's ModelServiceConfig, accepted for configs copied from it. */
export interface LegacyModelServiceFields {
  /** Same as `type`. */
  modelServiceType: 'local' | 'proxy';
  /** Same as `installCmd`. */
  modelServiceInstallCmd: string;
  /** Same as `installTimeout`. */
  modelServiceInstallTimeout: number;
  /** Added to the environment of every command, as `runtimeEnvConfig.env`. */
  sessionEnvs: Readonly<Record<string, string>>;
  /** Ignored (ROCK's Python runtime and bash session). */
  workdir: string;
  pythonInstallCmd: string;
  pythonInstallTimeout: number;
  modelServiceSession: string;
  antiCallLlmRequestLogPath: string | null;
  antiCallLlmResponseLogPath: string | null;
}

type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;
type SnakeCased<T> = { [K in keyof T as SnakeCase<K & string>]: T[K] };
type AnySpelling<T> = Partial<T> & Partial<SnakeCased<T>>;

/** What ModelService and modelServiceConfig() take: any field of ours or ROCK's, camelCase or snake_case. */
export type ModelServiceConfigInput = AnySpelling<Omit<ModelServiceConfig, 'runtimeEnvConfig'>> &
  AnySpelling<LegacyModelServiceFields> & {
    runtimeEnvConfig?: AnySpelling<RuntimeEnvConfig>;
    runtime_env_config?: AnySpelling<RuntimeEnvConfig>;
  };

/**
 * The default installCmd for each way of installing. From the registry it pins this SDK's own
 * version, so the CLI in the sandbox speaks the same protocol as the library driving it. From the
 * tarballs npm installs both at once, which resolves the platform package to the local one. The
 * executable is copied in as `rock` and `rock-model-service`. Each ends by printing where `rock` is.
 */
export const DEFAULT_INSTALL_CMDS = Object.freeze({
  registry: `npm install -g rock-model-service@${VERSION}`,
  tarballs: 'npm install -g --no-audit --no-fund --prefer-offline ${install_files} && command -v rock',
  executable:
    'mkdir -p ${install_bin_dir} && cp ${install_files} ${install_bin_dir}/rock && chmod 755 ${install_bin_dir}/rock && ' +
    'ln -sf rock ${install_bin_dir}/rock-model-service && command -v rock',
});

/** ROCK's defaults, where it has the field; ours for the rest. */
export const DEFAULT_MODEL_SERVICE_CONFIG: Readonly<ModelServiceConfig> = Object.freeze({
  enabled: false,
  type: 'local',
  installCmd: DEFAULT_INSTALL_CMDS.registry,
  installTimeout: 300,
  runtimeEnvConfig: Object.freeze({}),
  startCmd: 'rock model-service start --type ${type}',
  stopCmd: 'rock model-service stop',
  configIniCmd: '',
  watchAgentCmd: 'rock model-service watch-agent --pid ${pid}',
  antiCallLlmCmd: 'rock model-service anti-call-llm --index ${index} --response ${response_payload}',
  antiCallLlmCmdFile: 'rock model-service anti-call-llm --index ${index} --response-file ${response_file}',
  antiCallLlmCmdNoResponse: 'rock model-service anti-call-llm --index ${index}',
  loggingPath: '/data/logs',
  loggingFileName: 'model_service.log',
  commandTimeout: 60,
  responseFileDir: '',
  installFrom: null,
  installBinDir: '/usr/local/bin',
  healthCheckCmd: `rock model-service status --json | grep -q '"health":"healthy"'`,
});

type Field = keyof ModelServiceConfig;
type LegacyField = keyof LegacyModelServiceFields;

const TEMPLATES: Partial<Record<Field, { allowed: TemplateVariable[]; required: TemplateVariable[] }>> = {
  startCmd: { allowed: ['type'], required: [] },
  watchAgentCmd: { allowed: ['pid'], required: ['pid'] },
  antiCallLlmCmd: { allowed: ['index', 'response_payload'], required: ['index', 'response_payload'] },
  antiCallLlmCmdFile: { allowed: ['index', 'response_file'], required: ['index', 'response_file'] },
  antiCallLlmCmdNoResponse: { allowed: ['index'], required: ['index'] },
};
/** installCmd is a template only with installFrom; otherwise it runs as written (ROCK substitutes nothing in it either). */
const INSTALL_TEMPLATE = { allowed: ['install_files', 'install_bin_dir'] as TemplateVariable[], required: ['install_files'] as TemplateVariable[] };

/** ROCK 1.0 names of our fields. */
const ALIASES: Partial<Record<LegacyField, Field>> = {
  modelServiceType: 'type',
  modelServiceInstallCmd: 'installCmd',
  modelServiceInstallTimeout: 'installTimeout',
};
/** ROCK fields that describe its Python runtime or debugging aids, which have no counterpart here. */
const IGNORED_LEGACY: readonly LegacyField[] = [
  'workdir',
  'pythonInstallCmd',
  'pythonInstallTimeout',
  'modelServiceSession',
  'antiCallLlmRequestLogPath',
  'antiCallLlmResponseLogPath',
];
const RUNTIME_ENV_FIELDS: readonly (keyof RuntimeEnvConfig)[] = [
  'type',
  'version',
  'env',
  'installTimeout',
  'customInstallCmd',
  'extraSymlinkDir',
  'extraSymlinkExecutables',
  'pip',
  'pipIndexUrl',
];
const RUNTIME_ENV_EFFECTIVE: ReadonlySet<string> = new Set(['env', 'customInstallCmd', 'installTimeout']);

const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const FIELDS = Object.keys(DEFAULT_MODEL_SERVICE_CONFIG) as Field[];
const LEGACY_FIELDS = [...Object.keys(ALIASES), 'sessionEnvs', ...IGNORED_LEGACY] as LegacyField[];

function fail(field: string, message: string): never {
  throw new ConfigError(`ModelServiceConfig.${field} ${message}`, field);
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * The fields of `input` under their camelCase names.
 * @throws ConfigError for an unknown field or one given in both spellings.
 */
function camelCased(input: object, known: readonly string[], where: string): Map<string, unknown> {
  const bySnake = new Map(known.map((f) => [snakeCase(f), f]));
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(input)) {
    const field = known.includes(key) ? key : bySnake.get(key);
    if (field === undefined) {
      throw new ConfigError(`${where} has no field ${JSON.stringify(key)}; known fields: ${known.join(', ')} (or their snake_case spellings)`, key);
    }
    if (out.has(field)) throw new ConfigError(`${where}.${field} is given twice (as ${field} and ${snakeCase(field)}); keep one`, field);
    if (value !== undefined) out.set(field, value);
  }
  return out;
}

const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string');

function checkRuntimeEnv(input: unknown, ignored: string[]): RuntimeEnvConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('runtimeEnvConfig', `must be an object, got ${show(input)}`);
  const fields = camelCased(input, RUNTIME_ENV_FIELDS, 'ModelServiceConfig.runtimeEnvConfig');
  const out: Record<string, unknown> = {};
  for (const [field, value] of fields) {
    const name = `runtimeEnvConfig.${field}`;
    if (field === 'env' && !isStringRecord(value)) fail(name, `must map names to strings, got ${show(value)}`);
    if (field === 'installTimeout' && !(typeof value === 'number' && value > 0)) fail(name, `must be a positive number of seconds, got ${show(value)}`);
    if (field === 'customInstallCmd' && value !== null && typeof value !== 'string') fail(name, `must be a command or null, got ${show(value)}`);
    if (!RUNTIME_ENV_EFFECTIVE.has(field)) ignored.push(name);
    out[field] = value;
  }
  return Object.freeze(out);
}

function checkInstallFrom(value: unknown): InstallFrom | null {
  if (value === null) return null;
  const keys = typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
  const v = value as Record<string, unknown>;
  if (keys.length === 1 && keys[0] === 'executable' && typeof v.executable === 'string' && v.executable !== '') {
    return Object.freeze({ executable: v.executable });
  }
  if (keys.length === 1 && keys[0] === 'tarballs' && Array.isArray(v.tarballs) && v.tarballs.length > 0 && v.tarballs.every((t) => typeof t === 'string' && t !== '')) {
    return Object.freeze({ tarballs: Object.freeze([...(v.tarballs as string[])]) });
  }
  fail('installFrom', `must be { tarballs: [paths of .tgz files] } or { executable: path }, got ${show(value)}`);
}

/** Fields that may be '' (meaning "none" or "the default place"). */
const MAY_BE_EMPTY: ReadonlySet<Field> = new Set(['configIniCmd', 'responseFileDir']);

function checkField(field: Field, value: unknown): void {
  const expected = typeof DEFAULT_MODEL_SERVICE_CONFIG[field];
  if (typeof value !== expected) fail(field, `must be a ${expected}, got ${show(value)}`);
  if (field === 'type' && value !== 'local' && value !== 'proxy') fail(field, `must be "local" or "proxy", got ${show(value)}`);
  if (expected === 'number' && !((value as number) > 0)) fail(field, `must be a positive number of seconds, got ${String(value)}`);
  if (expected === 'string' && (value as string).trim() === '' && !MAY_BE_EMPTY.has(field)) fail(field, 'must not be empty');
  if (field === 'loggingFileName' && (value as string).includes('/')) {
    fail(field, `must be a file name without "/", got ${show(value)}; put the directory in loggingPath`);
  }
  const template = TEMPLATES[field];
  if (template) checkTemplate(field, value as string, template.allowed, template.required);
}

/**
 * Applies the defaults to `input`, maps ROCK's spellings and 1.0 names onto ours, and validates
 * every field.
 * @returns the config, and the fields given that take no effect here (for a warning).
 * @throws ConfigError naming the field: an unknown field, one given twice, a wrong type, an empty
 *   command, a type other than local/proxy, a template variable the field does not take, a
 *   required one it lacks, or a value placed where its quoting would not hold.
 */
export function resolveModelServiceConfig(input: ModelServiceConfigInput = {}): { config: Readonly<ModelServiceConfig>; ignored: string[] } {
  const given = camelCased(input, [...FIELDS, ...LEGACY_FIELDS], 'ModelServiceConfig');
  const ignored: string[] = [];
  for (const [legacy, field] of Object.entries(ALIASES) as [LegacyField, Field][]) {
    if (!given.has(legacy)) continue;
    const value = given.get(legacy);
    if (given.has(field) && given.get(field) !== value) {
      fail(legacy, `(ROCK 1.0's name of ${field}) is ${show(value)} but ${field} is ${show(given.get(field))}; keep one`);
    }
    given.set(field, value);
    given.delete(legacy);
  }
  for (const legacy of IGNORED_LEGACY) if (given.delete(legacy)) ignored.push(legacy);
  const config: Record<string, unknown> = { ...DEFAULT_MODEL_SERVICE_CONFIG };
  const runtimeEnv = checkRuntimeEnv(given.get('runtimeEnvConfig') ?? {}, ignored);
  const sessionEnvs = given.get('sessionEnvs');
  if (sessionEnvs !== undefined && !isStringRecord(sessionEnvs)) fail('sessionEnvs', `must map names to strings, got ${show(sessionEnvs)}`);
  config.runtimeEnvConfig = sessionEnvs === undefined ? runtimeEnv : Object.freeze({ ...runtimeEnv, env: { ...sessionEnvs, ...runtimeEnv.env } });
  const installFrom = checkInstallFrom(given.get('installFrom') ?? null);
  config.installFrom = installFrom;
  if (installFrom !== null) config.installCmd = 'tarballs' in installFrom ? DEFAULT_INSTALL_CMDS.tarballs : DEFAULT_INSTALL_CMDS.executable;
  for (const field of FIELDS) {
    if (field === 'runtimeEnvConfig' || field === 'installFrom' || !given.has(field)) continue;
    const value = given.get(field);
    checkField(field, value);
    config[field] = value;
  }
  if (installFrom !== null) checkTemplate('installCmd', config.installCmd as string, INSTALL_TEMPLATE.allowed, INSTALL_TEMPLATE.required);
  return { config: Object.freeze(config) as unknown as Readonly<ModelServiceConfig>, ignored };
}

/**
 * Applies the defaults to `input` and validates every field (see resolveModelServiceConfig).
 * @returns a complete, frozen ModelServiceConfig.
 * @throws ConfigError naming the field that is wrong.
 */
export function modelServiceConfig(input: ModelServiceConfigInput = {}): Readonly<ModelServiceConfig> {
  return resolveModelServiceConfig(input).config;
}
