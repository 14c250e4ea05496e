import type { Registry } from 'prom-client';
import type { ServiceConfig } from '../config/types.js';
import { DEFAULT_PROXY_REQUEST_TIMEOUT_MS } from '../config/defaults.js';
import { ConfigError } from '../errors.js';
import type { HttpService, RouteContext, RouteOptions } from '../http/http-service.js';
import { sendJson } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import { decodeUtf8 } from '../protocol/index.js';
import type { AgentApi } from '../wire/agent-api.js';
import { createAgentApis, type AgentApis } from '../wire/agent-apis.js';
import { anthropicErrorBody } from '../wire/error-bodies.js';
import { ResponsesStore } from '../wire/responses-store.js';
import { countTokensBody } from '../wire/token-estimate.js';
import { CallPlanner } from './call-plans.js';
import { ForwardingBackend } from './forwarding-backend.js';
import { createProxyMetrics } from './metrics.js';
import { registerModelRoutes, SeenModels } from './models.js';
import { CallRecorder } from './recorder.js';
import { ReplayBackend, ReplayResponsesStore } from './replay-backend.js';
import { ReplayCursor } from './replay-cursor.js';
import { checkUpstreamBases, redactedUpstreams } from './upstream-base.js';
import { UpstreamClient } from './upstream-client.js';

/** What the service hands the proxy: its metrics registry and its logger. */
export interface ProxyContext {
  registry: Registry;
  log: Logger;
  /** Where the outbound proxy variables (http_proxy, https_proxy, no_proxy…) are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Anthropic's clients read the request id from `request-id`, and its errors in Anthropic's shape. */
const ANTHROPIC: RouteOptions = { shape: anthropicErrorBody, requestIdHeaders: ['request-id'] };

/**
 * Registers proxy mode's routes on `http` (docs/proxy.md): POST /v1/chat/completions,
 * /v1/messages, /v1/responses and /v1/messages/count_tokens, GET /v1/models and
 * /v1/models/{id}. With `config.replayFile` every call is answered from the recording; else
 * calls are forwarded (and recorded to `config.recordingFile`).
 * @returns a handle whose close() ends the calls under way (their clients get 502), writes
 *   their records and closes the recording; it may be called before the HTTP server closes, and again.
 * @throws ConfigError when a configured upstream is not an http(s) URL, the replay file is missing or
 *   malformed, the recording file cannot be opened, or a proxy variable (http_proxy, https_proxy, all_proxy) is not an http(s) URL.
 */
export async function registerProxyRoutes(http: HttpService, config: ServiceConfig, ctx: ProxyContext): Promise<{ close(): Promise<void> }> {
  if (config.replayFile === undefined) checkUpstreamBases(config, (key, message) => new ConfigError(message, key.split('.')[0]));
  const metrics = createProxyMetrics(ctx.registry);
  const models = new SeenModels();
  registerModelRoutes(http, config, models);
  if (config.replayFile !== undefined) {
    const cursor = await ReplayCursor.load(config.replayFile);
    ctx.log.info({ replayFile: cursor.file, calls: cursor.size }, 'proxy mode: replaying a recording, no upstream');
    const replay = new ReplayBackend(cursor, metrics, ctx.log, models);
    const apis = createAgentApis({ responsesStore: new ReplayResponsesStore(config.responsesStore) });
    registerCallRoutes(http, apis, {
      chat: (route) => replay.handle(route),
      agent: (route, api) => replay.handleAgent(route, api),
      countTokens: async (route) => sendJson(route.res, 200, countTokensBody(decodeUtf8(await route.body()))),
    });
    return { close: async () => {} };
  }
  const client = await UpstreamClient.create(config.requestTimeoutMs ?? DEFAULT_PROXY_REQUEST_TIMEOUT_MS, ctx.env ?? process.env);
  const recorder = config.recordingFile === undefined ? undefined : openRecorder(config.recordingFile, ctx.log);
  const forwarding = new ForwardingBackend(config, client, recorder, metrics, ctx.log);
  const apis = createAgentApis({ responsesStore: new ResponsesStore(config.responsesStore), maxTokensCap: config.maxTokensCap });
  const planner = new CallPlanner(config, models);
  registerCallRoutes(http, apis, {
    chat: (route) => forwarding.handle(route, (body) => planner.chat(body, route.req)),
    agent: (route, api) => forwarding.handle(route, (body) => planner.agent(api, body, route.req)),
    async countTokens(route) {
      const body = await route.body();
      const plan = planner.countTokens(body, route.req);
      // An estimate, documented as one, unless a rule passes Messages through to an upstream that counts.
      if (plan === undefined) sendJson(route.res, 200, countTokensBody(decodeUtf8(body)));
      else await forwarding.handle({ ...route, body: async () => body }, () => plan);
    },
  });
  ctx.log.info(
    {
      ...redactedUpstreams(config),
      recordingFile: config.recordingFile,
      responseLimitBytes: config.responseLimitBytes,
      recordMaxBytes: config.recordMaxBytes,
      ...(config.maxTokensCap === undefined ? {} : { maxTokensCap: config.maxTokensCap }),
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

interface CallHandlers {
  chat(ctx: RouteContext): Promise<void>;
  agent(ctx: RouteContext, api: AgentApi<unknown>): Promise<void>;
  countTokens(ctx: RouteContext): Promise<void>;
}

/** The POST routes, with the Anthropic error shape and `request-id` on the Messages ones (any query string: Claude Code posts `?beta=true`). */
function registerCallRoutes(http: HttpService, apis: AgentApis, handlers: CallHandlers): void {
  http.route('POST', '/v1/chat/completions', (route) => handlers.chat(route));
  http.route('POST', '/v1/messages', (route) => handlers.agent(route, apis.messages as AgentApi<unknown>), ANTHROPIC);
  http.route('POST', '/v1/responses', (route) => handlers.agent(route, apis.responses as AgentApi<unknown>));
  http.route('POST', '/v1/messages/count_tokens', (route) => handlers.countTokens(route), ANTHROPIC);
}

function openRecorder(file: string, log: Logger): CallRecorder {
  try {
    return new CallRecorder(file, (err) => log.error({ err, recordingFile: file }, 'a call could not be recorded'));
  } catch (err) {
    throw new ConfigError(`recording file ${file} cannot be opened (${(err as Error).message}): check recording_file / --recording-file`, 'recording_file');
  }
}
