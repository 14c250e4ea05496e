/**
 * Local mode's routes (SPEC section 4): agent calls become request lines answered by the
 * runtime's response lines; `/v1/agent/watch` ends the session when the agent exits.
 */
import { InvalidArgumentError } from '../errors.js';
import type { HttpService } from '../http/http-service.js';
import { sendJson } from '../http/reply.js';
import { decodeUtf8, parseJsonText } from '../protocol/index.js';
import { isJsonObject } from '../wire/json-object.js';
import type { AgentWatcher } from './agent-watch.js';
import { chatApi } from './chat-api.js';
import { serveLocalCall, type LocalCallDeps } from './local-calls.js';

export interface LocalRouteDeps extends LocalCallDeps {
  agents: AgentWatcher;
}

/** Registers the agent API routes and POST /v1/agent/watch on `http`. */
export function registerLocalRoutes(http: HttpService, deps: LocalRouteDeps): void {
  for (const api of [chatApi]) {
    http.route('POST', api.endpoint, (ctx) => serveLocalCall(ctx, api, deps), { shape: api.shape, requestIdHeaders: api.requestIdHeaders });
  }

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
