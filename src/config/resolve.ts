import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { LOG_FILE_NAME, TRAJECTORY_FILE_NAME } from '../protocol/markers.js';
import * as d from './defaults.js';
import { checkServiceConfig } from './limits.js';
import type { ServiceConfig, UpstreamApi } from './types.js';

/** A proxy rule: the upstream's base URL, or the URL with the agent APIs it speaks itself. */
export type ProxyRuleInput = string | { url: string; apis?: UpstreamApi[] };

const UPSTREAM_APIS: readonly string[] = ['chat', 'messages', 'responses'] satisfies UpstreamApi[];

/** What a caller may set; everything else comes from the environment and the defaults. */
export interface ServiceConfigInput {
  type?: 'local' | 'proxy';
  host?: string;
  port?: number;
  dataDir?: string;
  logFile?: string;
  trajectoryFile?: string;
  trajectoryAppend?: boolean;
  bodyLimitBytes?: number;
  bodyTimeoutMs?: number;
  bodyBudgetBytes?: number;
  heartbeatIntervalMs?: number;
  maxOrphanedTurns?: number;
  livePage?: boolean;
  agentApiMode?: 'translated' | 'native';
  models?: string[];
  responsesStore?: Partial<ServiceConfig['responsesStore']>;
  pollIntervalMs?: number;
  watchIntervalMs?: number;
  requestTimeoutMs?: number;
  proxyBaseUrl?: string;
  proxyRules?: Record<string, ProxyRuleInput>;
  retryableStatusCodes?: number[];
  retry?: Partial<ServiceConfig['retry']>;
  responseLimitBytes?: number;
  recordMaxBytes?: number;
  maxTokensCap?: number;
  recordingFile?: string;
  replayFile?: string;
  serviceLogFile?: string;
  logLevel?: string;
}

/**
 * Applies the environment and the defaults to `input`.
 * @returns a complete ServiceConfig.
 * @throws ConfigError when values contradict each other (recording and replay both set), or one
 *   is out of its bounds (see limits.ts), naming the key.
 */
export function resolveServiceConfig(input: ServiceConfigInput = {}, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const type = input.type ?? 'local';
  if (type !== 'local' && type !== 'proxy') {
    throw new ConfigError(`type must be "local" or "proxy", got ${JSON.stringify(type)}`, 'type');
  }
  if (input.recordingFile !== undefined && input.replayFile !== undefined) {
    throw new ConfigError(
      'recording_file and replay_file are both set: a replay records nothing. Set only one of them.',
      'replay_file',
    );
  }
  const dataDir = input.dataDir ?? d.dataDirFromEnv(env);
  const loggingPath = env.ROCK_LOGGING_PATH;
  const loggingFile = env.ROCK_LOGGING_FILE_NAME;
  const bodyLimitBytes = input.bodyLimitBytes ?? d.DEFAULT_BODY_LIMIT_BYTES;
  const rules = splitProxyRules(input.proxyRules ?? d.DEFAULT_PROXY_RULES);
  const config: ServiceConfig = {
    type,
    host: input.host ?? d.DEFAULT_HOST,
    port: input.port ?? d.DEFAULT_PORT,
    dataDir,
    logFile: input.logFile ?? join(dataDir, LOG_FILE_NAME),
    trajectoryFile: input.trajectoryFile ?? join(dataDir, TRAJECTORY_FILE_NAME),
    trajectoryAppend: input.trajectoryAppend ?? env.ROCK_MODEL_SERVICE_TRAJ_APPEND_MODE?.toLowerCase() === 'true',
    bodyLimitBytes,
    bodyTimeoutMs: input.bodyTimeoutMs ?? d.DEFAULT_BODY_TIMEOUT_MS,
    bodyBudgetBytes: input.bodyBudgetBytes ?? d.defaultBodyBudgetBytes(bodyLimitBytes),
    heartbeatIntervalMs: input.heartbeatIntervalMs ?? d.DEFAULT_HEARTBEAT_INTERVAL_MS,
    maxOrphanedTurns: input.maxOrphanedTurns ?? d.DEFAULT_MAX_ORPHANED_TURNS,
    livePage: input.livePage ?? false,
    agentApiMode: input.agentApiMode ?? 'translated',
    models: input.models ?? [],
    responsesStore: {
      maxResponses: input.responsesStore?.maxResponses ?? d.DEFAULT_RESPONSES_STORE_LIMITS.maxResponses,
      maxBytes: input.responsesStore?.maxBytes ?? d.DEFAULT_RESPONSES_STORE_LIMITS.maxBytes,
    },
    pollIntervalMs: input.pollIntervalMs ?? d.DEFAULT_POLL_INTERVAL_MS,
    watchIntervalMs: input.watchIntervalMs ?? d.DEFAULT_WATCH_INTERVAL_MS,
    requestTimeoutMs: input.requestTimeoutMs ?? (type === 'proxy' ? d.DEFAULT_PROXY_REQUEST_TIMEOUT_MS : undefined),
    proxyBaseUrl: input.proxyBaseUrl,
    proxyRules: rules.urls,
    proxyRuleApis: rules.apis,
    retryableStatusCodes: input.retryableStatusCodes ?? [...d.DEFAULT_RETRYABLE_STATUS_CODES],
    retry: {
      maxAttempts: input.retry?.maxAttempts ?? d.DEFAULT_RETRY_MAX_ATTEMPTS,
      initialDelayMs: input.retry?.initialDelayMs ?? d.DEFAULT_RETRY_INITIAL_DELAY_MS,
      maxDelayMs: input.retry?.maxDelayMs ?? d.DEFAULT_RETRY_MAX_DELAY_MS,
    },
    responseLimitBytes: input.responseLimitBytes ?? d.DEFAULT_RESPONSE_LIMIT_BYTES,
    recordMaxBytes: input.recordMaxBytes ?? d.DEFAULT_RECORD_MAX_BYTES,
    maxTokensCap: input.maxTokensCap,
    recordingFile:
      type === 'proxy' && input.replayFile === undefined
        ? (input.recordingFile ?? join(dataDir, TRAJECTORY_FILE_NAME))
        : input.recordingFile,
    replayFile: input.replayFile,
    serviceLogFile: input.serviceLogFile ?? (loggingPath && loggingFile ? join(loggingPath, loggingFile) : undefined),
    logLevel: input.logLevel ?? env.ROCK_MS_LOG_LEVEL ?? 'info',
  };
  checkServiceConfig(config);
  return config;
}

/**
 * Splits proxy rules into their URLs and the APIs each one passes through.
 * @throws ConfigError naming the rule when it is neither a URL string nor `{url, apis}` with known APIs.
 */
function splitProxyRules(rules: Readonly<Record<string, ProxyRuleInput>>): { urls: Record<string, string>; apis: Record<string, UpstreamApi[]> } {
  const urls: Record<string, string> = {};
  const apis: Record<string, UpstreamApi[]> = {};
  for (const [model, rule] of Object.entries(rules)) {
    const url = typeof rule === 'string' ? rule : rule?.url;
    if (typeof url !== 'string') {
      throw new ConfigError(`proxy_rules.${model} must be a URL, or {url, apis} with the APIs its upstream speaks itself`, 'proxy_rules');
    }
    urls[model] = url;
    if (typeof rule === 'string' || rule.apis === undefined) continue;
    const unknown = Array.isArray(rule.apis) ? rule.apis.find((api) => !UPSTREAM_APIS.includes(api)) : rule.apis;
    if (unknown !== undefined) {
      throw new ConfigError(`proxy_rules.${model}.apis must be a list of ${UPSTREAM_APIS.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(unknown)}`, 'proxy_rules');
    }
    apis[model] = [...new Set(rule.apis)];
  }
  return { urls, apis };
}
