import { z } from 'zod';

const path = z.string().min(1, 'must be a non-empty path');
const url = z.string().url('must be an http(s) URL such as http://127.0.0.1:8000/v1');
const oneOf = <U extends string, T extends Readonly<[U, ...U[]]>>(values: T) =>
  z.enum(values, { errorMap: () => ({ message: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` }) });
const seconds = z.number({ invalid_type_error: 'must be a number of seconds' });

/**
 * The YAML config file (SPEC section 7), snake_case keys. The first block is the
 * reference's ModelServiceConfig; the rest are ours. Durations are in seconds, like the
 * reference's request_timeout; body_limit is in bytes.
 */
export const configFileSchema = z
  .object({
    host: z.string().min(1, 'must be a non-empty host name or address'),
    port: z.number().int('must be an integer').min(0).max(65535),
    proxy_base_url: url,
    proxy_rules: z.record(z.string(), url),
    retryable_status_codes: z.array(z.number().int('must be an integer').min(100).max(599)),
    request_timeout: seconds.positive('must be greater than 0'),
    recording_file: path,
    replay_file: path,

    type: oneOf(['local', 'proxy']),
    data_dir: path,
    body_limit: z.number().int('must be an integer').positive('must be greater than 0'),
    retry_max_attempts: z.number().int('must be an integer').min(1),
    retry_initial_delay: seconds.min(0),
    retry_max_delay: seconds.min(0),
    log_level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  })
  .partial()
  .strict();

/** A validated config file: every key optional. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/** The keys the config file accepts, for error messages. */
export const CONFIG_FILE_KEYS: readonly string[] = Object.keys(configFileSchema.shape);
