/** Every default of the service in one place. */
export const DEFAULT_DATA_DIR = '/data/logs';
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_PORT = 8080;
/** Fallback poll when file events are missed (the reference's POLLING_INTERVAL_SECONDS). */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** How often a watched agent pid is checked (the reference checks every 5 s; a second is plenty cheap). */
export const DEFAULT_WATCH_INTERVAL_MS = 1000;
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** How long a request body may take to arrive whole. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** The bytes all request bodies in flight may hold together: four bodies at the limit, at least 256 MiB. */
export function defaultBodyBudgetBytes(bodyLimitBytes: number): number {
  return Math.max(4 * bodyLimitBytes, 256 * 1024 * 1024);
}
/** How often a streamed call that waits for the runtime gets a heartbeat. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
/** Responses kept for `previous_response_id` (in memory, not across a restart). */
export const DEFAULT_RESPONSES_STORE_LIMITS = { maxResponses: 1000, maxBytes: 64 * 1024 * 1024 } as const;
/** Orphaned turns (their call ended without an answer) kept for a retry of the same request. */
export const DEFAULT_MAX_ORPHANED_TURNS = 16;
/** Proxy mode only; local mode waits without limit unless configured. */
export const DEFAULT_PROXY_REQUEST_TIMEOUT_MS = 120_000;
export const DEFAULT_RETRYABLE_STATUS_CODES: readonly number[] = [429, 500];
export const DEFAULT_RETRY_MAX_ATTEMPTS = 6;
export const DEFAULT_RETRY_INITIAL_DELAY_MS = 2000;
export const DEFAULT_RETRY_MAX_DELAY_MS = 60_000;
/**
 * Proxy mode: the most bytes of a streamed answer aggregated into its record. The aggregate
 * is held in memory until the call ends, so this bounds memory per call (an endless stream
 * otherwise filled the heap).
 */
export const DEFAULT_RECORD_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Proxy mode: the largest answer (not a stream) the proxy holds to pass on. It is held whole
 * so that a failure before its end can still be retried; an endless body otherwise held
 * 6.6 GB after 15 s.
 */
export const DEFAULT_RESPONSE_LIMIT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PROXY_RULES: Readonly<Record<string, string>> = {
  'gpt-3.5-turbo': 'https://api.openai.com/v1',
  default: 'https://api-inference.modelscope.cn/v1',
};
/** CLI pid file, relative to the working directory (reference behaviour). */
export const PID_FILE = 'data/cli/model/pid.txt';
/** How long `start` waits for /health, and `stop` for the process to go before SIGKILL. */
export const START_HEALTH_WAIT_MS = 30_000;
export const STOP_GRACE_MS = 10_000;

/** The data dir the environment asks for. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.ROCK_MODEL_SERVICE_DATA_DIR || DEFAULT_DATA_DIR;
}
