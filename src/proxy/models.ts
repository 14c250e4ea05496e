import type { ServiceConfig } from '../config/types.js';
import { RouteNotFoundError } from '../errors.js';
import type { HttpService } from '../http/http-service.js';
import { sendJson } from '../http/reply.js';
import { modelBody, modelsListBody } from '../wire/models-list.js';
import { upstreamRoute } from './upstream-base.js';

/** A longer name is no model's: clients choose these names, and the list is answered whole. */
const MAX_MODEL_NAME_CHARS = 200;
export const DEFAULT_MAX_SEEN_MODELS = 1024;

/** The model names this service's calls asked for, the first `max` distinct ones (the rest are not listed). */
export class SeenModels {
  private readonly names = new Set<string>();

  constructor(readonly max = DEFAULT_MAX_SEEN_MODELS) {}

  add(model: string | undefined): void {
    if (model === undefined || model === '' || model.length > MAX_MODEL_NAME_CHARS || this.names.has(model) || this.names.size >= this.max) return;
    this.names.add(model);
  }

  values(): IterableIterator<string> {
    return this.names.values();
  }
}

/**
 * Registers `GET /v1/models` (the models the configuration names, proxy rules but `default`
 * (none under proxy_base_url) and the `models` list, then those the calls asked for) and `GET /v1/models/{id}` (a listed
 * model, or any model a proxy rule routes; 404 otherwise), in the shape both SDKs parse.
 */
export function registerModelRoutes(http: HttpService, config: ServiceConfig, seen: SeenModels): void {
  // proxy_base_url takes every call, whatever the rules say: then they name no model.
  const rules = config.proxyBaseUrl ? [] : Object.keys(config.proxyRules).filter((model) => model !== 'default');
  const configured = [...rules, ...config.models];
  const ids = (): string[] => [...configured, ...seen.values()];
  http.route('GET', '/v1/models', (ctx) => sendJson(ctx.res, 200, modelsListBody(ids())));
  http.route('GET', '/v1/models/{id}', (ctx) => {
    const id = ctx.param!;
    // A replay has no upstream: only the models it lists exist there.
    const routed = config.replayFile === undefined && upstreamRoute(config, id) !== undefined;
    if (!routed && !ids().includes(id)) {
      throw new RouteNotFoundError(`no model ${JSON.stringify(id)} here: no proxy rule routes it and no call asked for it; GET /v1/models lists the models`);
    }
    sendJson(ctx.res, 200, modelBody(id));
  });
}
