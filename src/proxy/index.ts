import type { Registry } from 'prom-client';
import type { ServiceConfig } from '../config/types.js';
import { DEFAULT_PROXY_REQUEST_TIMEOUT_MS } from '../config/defaults.js';
import { ConfigError } from '../errors.js';
import type { HttpService } from '../http/http-service.js';
import type { Logger } from '../log/logger.js';
import { ForwardingBackend } from './forwarding-backend.js';
import { createProxyMetrics } from './metrics.js';
import { CallRecorder } from './recorder.js';
import { ReplayBackend } from './replay-backend.js';
import { ReplayCursor } from './replay-cursor.js';
import { redactedUpstreams } from './upstream-base.js';
import { UpstreamClient } from './upstream-client.js';

/** What the service hands the proxy: its metrics registry and its logger. */
export interface ProxyContext {
  registry: Registry;
  log: Logger;
  /** Where the outbound proxy variables (http_proxy, https_proxy, no_proxy…) are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Registers proxy mode's POST /v1/chat/completions on `http`: replay when `config.replayFile`
 * is set, else forwarding (recording to `config.recordingFile`).
 * @returns a handle whose close() ends the calls under way (their clients get 502), writes
 *   their records and closes the recording; it may be called before the HTTP server closes, and again.
 * @throws ConfigError when the replay file is missing or malformed, the recording file cannot be opened, or a
 *   proxy variable (http_proxy, https_proxy, all_proxy) is not an http(s) URL.
 */
export async function registerProxyRoutes(http: HttpService, config: ServiceConfig, ctx: ProxyContext): Promise<{ close(): Promise<void> }> {
  const metrics = createProxyMetrics(ctx.registry);
  if (config.replayFile !== undefined) {
    const cursor = await ReplayCursor.load(config.replayFile);
    ctx.log.info({ replayFile: cursor.file, calls: cursor.size }, 'proxy mode: replaying a recording, no upstream');
    const replay = new ReplayBackend(cursor, metrics, ctx.log);
    http.route('POST', '/v1/chat/completions', (route) => replay.handle(route));
    return { close: async () => {} };
  }
  const client = await UpstreamClient.create(config.requestTimeoutMs ?? DEFAULT_PROXY_REQUEST_TIMEOUT_MS, ctx.env ?? process.env);
  const recorder = config.recordingFile === undefined ? undefined : openRecorder(config.recordingFile, ctx.log);
  const forwarding = new ForwardingBackend(config, client, recorder, metrics, ctx.log);
  http.route('POST', '/v1/chat/completions', (route) => forwarding.handle(route));
  ctx.log.info(
    {
      ...redactedUpstreams(config),
      recordingFile: config.recordingFile,
      responseLimitBytes: config.responseLimitBytes,
      recordMaxBytes: config.recordMaxBytes,
      ...client.describeProxies(),
    },
    'proxy mode: forwarding',
  );
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        await forwarding.close();
        await recorder?.close();
      })()),
  };
}

function openRecorder(file: string, log: Logger): CallRecorder {
  try {
    return new CallRecorder(file, (err) => log.error({ err, recordingFile: file }, 'a call could not be recorded'));
  } catch (err) {
    throw new ConfigError(`recording file ${file} cannot be opened (${(err as Error).message}): check recording_file / --recording-file`, 'recording_file');
  }
}
