import { z } from 'zod';

const path = z.string().min(1, 'must be a non-empty path');
const url = z.string().url('must be an http(s) URL such as http://127.0.0.1:8000/v1');
const oneOf = <U extends string, T extends Readonly<[U, ...U[]]>>(values: T) =>
  z.enum(values, { errorMap: () => ({ message: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` }) });
const seconds = z.number({ invalid_type_error: 'must be a number of seconds' });
/**
 * A proxy rule: the upstream's base URL (it speaks Chat Completions, and the agent APIs are
 * translated to it), or `{url, apis}` naming the agent APIs it speaks itself, which then pass through.
 */
const proxyRule = z.union([url, z.object({ url, apis: z.array(oneOf(['chat', 'messages', 'responses'])).optional() }).strict()]);

/**
 * The YAML config file (docs/proxy.md), snake_case keys. The first block is the
 * reference's ModelServiceConfig; the rest are ours. Durations are in seconds, like the
 * reference's request_timeout; body_limit is in bytes. This checks types; the bounds of each
 * value are checked on the resolved config (limits.ts), for flags and file alike.
 */
export const configFileSchema = z
  .object({
    host: z.string().min(1, 'must be a non-empty host name or address'),
    port: z.number().int('must be an integer').min(0).max(65535),
    proxy_base_url: url,
    proxy_rules: z.record(z.string(), proxyRule),
    retryable_status_codes: z.array(z.number().int('must be an integer')),
    /** Proxy mode: the longest the upstream may stay silent within one attempt (default 120). */
    request_timeout: seconds,
    recording_file: path,
    replay_file: path,

    /** local (default) or proxy; --type wins. */
    type: oneOf(['local', 'proxy']),
    /** Instead of $ROCK_MODEL_SERVICE_DATA_DIR. */
    data_dir: path,
    /** Largest request body in bytes (default 64 MiB). */
    body_limit: z.number().int('must be an integer').positive('must be greater than 0'),
    /** Attempts per call, the first included (default 6, at most 100). */
    retry_max_attempts: z.number().int('must be an integer'),
    /** Seconds before the first retry (default 2); doubles per retry, with jitter. */
    retry_initial_delay: seconds,
    /** Longest wait between attempts, seconds (default 60). */
    retry_max_delay: seconds,
    /** Proxy mode: the largest upstream answer (not a stream) passed on, bytes (default 64 MiB); past it the client gets 502. */
    response_limit: z.number().int('must be an integer'),
    /** Proxy mode: the most bytes of a streamed answer kept for its record (default 16 MiB); the record says what was cut. */
    record_max_bytes: z.number().int('must be an integer'),
    /** Longest time a request body may take to arrive, seconds (default 60). */
    body_timeout: seconds,
    /** Local mode: `translated` (default: the runtime speaks Chat Completions whatever the agent speaks) or `native`. */
    agent_api_mode: oneOf(['translated', 'native']),
    /** Models GET /v1/models lists besides those the session's requests name. */
    models: z.array(z.string().min(1, 'must be a non-empty model name')),
    /** Local mode: serve the live session page at GET / (default false: conversations are private). */
    live_page: z.boolean({ invalid_type_error: 'must be true or false' }),
    /** Local mode: seconds between heartbeats of a streamed call that waits for the runtime (default 5). */
    heartbeat_interval: seconds,
    /** Local mode: orphaned turns kept for a retry of the same request (default 16). */
    max_orphaned_turns: z.number().int('must be an integer'),
    /** Responses kept for previous_response_id: how many (default 1000) and how many bytes (default 64 MiB). */
    responses_store_max: z.number().int('must be an integer'),
    responses_store_max_bytes: z.number().int('must be an integer'),
    /** The largest max_tokens a translated agent call asks for (Claude Code asks 128000 of any model); default: no cap. */
    max_tokens_cap: z.number().int('must be an integer'),
    /** pino level (default info, or $ROCK_MS_LOG_LEVEL). */
    log_level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  })
  .partial()
  .strict();

/** A validated config file: every key optional. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/** The keys the config file accepts, for error messages. */
export const CONFIG_FILE_KEYS: readonly string[] = Object.keys(configFileSchema.shape);
