/**
 * Local mode's routes (docs/http.md): agent calls in any of the three APIs become request
 * lines answered by the runtime's response lines; `/v1/models` lists the models of the session;
 * `/v1/agent/watch` ends the session when the agent exits.
 */
import { InvalidArgumentError } from '../errors.js';
import type { HttpService, RouteContext, RouteOptions } from '../http/http-service.js';
import { sendJson } from '../http/reply.js';
import { decodeUtf8, parseJsonText } from '../protocol/index.js';
import type { AgentApi } from '../wire/agent-api.js';
import type { AgentApis } from '../wire/agent-apis.js';
import { chatCompletionsApi } from '../wire/chat-completions-api.js';
import { anthropicErrorBody } from '../wire/error-bodies.js';
import { isJsonObject } from '../wire/json-object.js';
import { modelBody, modelsListBody } from '../wire/models-list.js';
import type { AgentWatcher } from './agent-watch.js';
import { serveLocalCall, type LocalCallDeps } from './local-calls.js';

export interface LocalRouteDeps extends LocalCallDeps {
  agents: AgentWatcher;
  /** The agent API adapters, loaded on first use. */
  apis: () => Promise<AgentApis>;
  /** Models named in the configuration; the session's own are added as agents name them. */
  configuredModels: readonly string[];
}

/** Anthropic's clients read the request id from `request-id`, and its errors in Anthropic's shape. */
const ANTHROPIC: RouteOptions = { shape: anthropicErrorBody, requestIdHeaders: ['request-id'] };

/** Registers the agent API routes, the models list and POST /v1/agent/watch on `http`. */
export function registerLocalRoutes(http: HttpService, deps: LocalRouteDeps): void {
  const call = (pick: (apis: AgentApis) => unknown) => async (ctx: RouteContext) => serveLocalCall(ctx, pick(await deps.apis()) as AgentApi<unknown>, deps);
  http.route('POST', '/v1/chat/completions', (ctx) => serveLocalCall(ctx, chatCompletionsApi as AgentApi<unknown>, deps));
  http.route('POST', '/v1/messages', call((apis) => apis.messages), ANTHROPIC);
  http.route('POST', '/v1/responses', call((apis) => apis.responses));
  // An estimate, documented as one: no tokenizer runs here, and nothing goes into the log.
  http.route(
    'POST',
    '/v1/messages/count_tokens',
    async (ctx) => {
      const { countTokensBody } = await import('../wire/token-estimate.js');
      sendJson(ctx.res, 200, countTokensBody(decodeUtf8(await ctx.body())));
    },
    ANTHROPIC,
  );

  const modelIds = (): string[] => [...deps.configuredModels, ...deps.models];
  http.route('GET', '/v1/models', (ctx) => sendJson(ctx.res, 200, modelsListBody(modelIds())));
  // The runtime answers whatever model an agent names, so every id exists here.
  http.route('GET', '/v1/models/{id}', (ctx) => sendJson(ctx.res, 200, modelBody(ctx.param!)));

  http.route('POST', '/v1/agent/watch', async (ctx) => {
    const body = await ctx.body();
    const pid = body.length === 0 ? undefined : watchedPid(parseJsonText(decodeUtf8(body)).value);
    if (pid === undefined) {
      throw new InvalidArgumentError('the body must be {"pid": <positive integer>}: the process id of the agent to watch');
    }
    deps.agents.watch(pid);
    deps.log.info({ agentPid: pid }, 'watching agent');
    sendJson(ctx.res, 200, `{"status":"watching","pid":${pid}}`);
  });
}

function watchedPid(value: unknown): number | undefined {
  const pid = isJsonObject(value) ? value.pid : undefined;
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
