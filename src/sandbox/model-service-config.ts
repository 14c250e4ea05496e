import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';
import { checkTemplate, type TemplateVariable } from './command-template.js';

/**
 * How the orchestrator installs, starts, stops and drives the model service inside a sandbox:
 * the reference's `ModelServiceConfig` fields in camelCase, durations in seconds as there.
 */
export interface ModelServiceConfig {
  /** Read by whoever manages the lifecycle for you (the reference's RockAgent); ModelService itself ignores it. */
  enabled: boolean;
  type: 'local' | 'proxy';
  installCmd: string;
  /** Seconds. */
  installTimeout: number;
  /** May use `${type}`. */
  startCmd: string;
  stopCmd: string;
  /** Must use `${pid}`. */
  watchAgentCmd: string;
  /** Must use `${index}` and `${response_payload}`. */
  antiCallLlmCmd: string;
  /** Must use `${index}` and `${response_file}`; used for payloads too big for a command line. */
  antiCallLlmCmdFile: string;
  /** Must use `${index}`. */
  antiCallLlmCmdNoResponse: string;
  /** Exported as ROCK_LOGGING_PATH to the service. */
  loggingPath: string;
  /** Exported as ROCK_LOGGING_FILE_NAME to the service. */
  loggingFileName: string;
  /** Not in the reference: seconds that start, stop and watch-agent may take before they are killed. */
  commandTimeout: number;
  /** Not in the reference: the sandbox directory large response payloads are uploaded to. */
  responseFileDir: string;
}

const packageVersion = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * The reference's defaults. The install command pins this SDK's own version, so the CLI in the
 * sandbox speaks the same protocol as the library driving it.
 */
export const DEFAULT_MODEL_SERVICE_CONFIG: Readonly<ModelServiceConfig> = Object.freeze({
  enabled: false,
  type: 'local',
  installCmd: `npm install -g rock-model-service@${packageVersion}`,
  installTimeout: 300,
  startCmd: 'rock model-service start --type ${type}',
  stopCmd: 'rock model-service stop',
  watchAgentCmd: 'rock model-service watch-agent --pid ${pid}',
  antiCallLlmCmd: 'rock model-service anti-call-llm --index ${index} --response ${response_payload}',
  antiCallLlmCmdFile: 'rock model-service anti-call-llm --index ${index} --response-file ${response_file}',
  antiCallLlmCmdNoResponse: 'rock model-service anti-call-llm --index ${index}',
  loggingPath: '/data/logs',
  loggingFileName: 'model_service.log',
  commandTimeout: 60,
  responseFileDir: '/tmp/rock-model-service',
});

type Field = keyof ModelServiceConfig;

// installCmd and stopCmd are run as written (the reference substitutes nothing in them either).
const TEMPLATES: Partial<Record<Field, { allowed: TemplateVariable[]; required: TemplateVariable[] }>> = {
  startCmd: { allowed: ['type'], required: [] },
  watchAgentCmd: { allowed: ['pid'], required: ['pid'] },
  antiCallLlmCmd: { allowed: ['index', 'response_payload'], required: ['index', 'response_payload'] },
  antiCallLlmCmdFile: { allowed: ['index', 'response_file'], required: ['index', 'response_file'] },
  antiCallLlmCmdNoResponse: { allowed: ['index'], required: ['index'] },
};

const snakeCase = (field: string): string => field.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const FIELDS = Object.keys(DEFAULT_MODEL_SERVICE_CONFIG) as Field[];
const FIELD_BY_SNAKE_CASE = new Map(FIELDS.map((f) => [snakeCase(f), f]));

function fail(field: string, message: string): never {
  throw new ConfigError(`ModelServiceConfig.${field} ${message}`, field);
}

function checkField(field: Field, value: unknown): void {
  const expected = typeof DEFAULT_MODEL_SERVICE_CONFIG[field];
  if (typeof value !== expected) fail(field, `must be a ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  if (field === 'type' && value !== 'local' && value !== 'proxy') {
    fail(field, `must be "local" or "proxy", got ${JSON.stringify(value)}`);
  }
  if (expected === 'number' && !(Number.isFinite(value) && (value as number) > 0)) {
    fail(field, `must be a positive number of seconds, got ${String(value)}`);
  }
  if (expected === 'string' && (value as string).trim() === '') fail(field, 'must not be empty');
  if (field === 'loggingFileName' && (value as string).includes('/')) {
    fail(field, `must be a file name without "/", got ${JSON.stringify(value)}; put the directory in loggingPath`);
  }
  const template = TEMPLATES[field];
  if (template) checkTemplate(field, value as string, template.allowed, template.required);
}

/**
 * Applies the defaults to `partial` and validates every field.
 * @returns a complete, frozen ModelServiceConfig.
 * @throws ConfigError naming the field: an unknown field, a wrong type, an empty command, a
 * type other than local/proxy, a template variable the field does not take or a required one it lacks.
 */
export function modelServiceConfig(partial: Partial<ModelServiceConfig> = {}): Readonly<ModelServiceConfig> {
  for (const key of Object.keys(partial)) {
    if ((FIELDS as string[]).includes(key)) continue;
    const camel = FIELD_BY_SNAKE_CASE.get(key);
    throw new ConfigError(
      `ModelServiceConfig has no field ${JSON.stringify(key)}` +
        (camel ? `; fields are camelCase here: use ${camel}` : `; known fields: ${FIELDS.join(', ')}`),
      key,
    );
  }
  const config = { ...DEFAULT_MODEL_SERVICE_CONFIG };
  for (const field of FIELDS) {
    const value = partial[field];
    if (value === undefined) continue;
    checkField(field, value);
    (config as Record<Field, unknown>)[field] = value;
  }
  return Object.freeze(config);
}
