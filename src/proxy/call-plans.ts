/**
 * What each route's call becomes before it goes upstream (docs/proxy.md, docs/agent-apis.md): where it
 * goes, the bytes and headers sent, how the answer comes back, and what the record keeps.
 * Chat Completions and the agent APIs a rule's upstream speaks itself pass through unchanged;
 * any other agent API call is translated to Chat Completions.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { ServiceConfig, UpstreamApi } from '../config/types.js';
import { redactUrl } from '../config/redact-url.js';
import { ConfigError } from '../errors.js';
import { decodeUtf8 } from '../protocol/index.js';
import type { AgentApi } from '../wire/agent-api.js';
import { upstreamRequestHeaders } from './hop-by-hop.js';
import { readJsonRequest, type JsonRequest } from './json-request.js';
import type { SeenModels } from './models.js';
import { RawJson } from './recorder.js';
import { agentStreamRecord, chatStreamRecord } from './stream-records.js';
import { translated } from './translated-answer.js';
import { passThrough, type AnswerLimits, type Delivery } from './upstream-body.js';
import { upstreamRoute, upstreamUrl, type UpstreamRoute } from './upstream-base.js';

/** One upstream URL, parsed once, with the form of it a log line may show. */
export interface Upstream {
  url: URL;
  /** Credentials (user:password@, key=… parameters) replaced by `***`. */
  logged: string;
}

/** What the record of a call holds besides its outcome. */
export interface PlannedRecord {
  /** The request as the upstream got it. */
  request: RawJson;
  /** The agent API route called, when it is not Chat Completions. */
  endpoint?: string;
  /** The agent's own request, when the upstream got a translation of it. */
  agentRequest?: RawJson;
  /** What the translation left out. */
  dropped?: readonly string[];
}

/** One call, ready to go upstream. */
export interface CallPlan {
  /** The route called, for log lines. */
  endpoint: string;
  model: string | undefined;
  stream: boolean;
  upstream: Upstream;
  body: Buffer;
  headers: OutgoingHttpHeaders;
  delivery: Delivery;
  /** undefined: the call is not recorded (count_tokens, which a replay answers without the recording). */
  record: PlannedRecord | undefined;
}

/** Parsed upstream URLs kept: a client's query string is part of the key, so the cache is bounded. */
const MAX_CACHED_URLS = 256;

export class CallPlanner {
  /** Parsing a URL again cost a few µs of every call. */
  private readonly urls = new Map<string, Upstream>();
  /** The agent APIs some rule passes through: only then is a request read for its model before it is translated. */
  private readonly passedApis: ReadonlySet<UpstreamApi>;
  private readonly limits: AnswerLimits;

  constructor(
    private readonly config: ServiceConfig,
    private readonly models: SeenModels,
  ) {
    this.passedApis = new Set(Object.values(config.proxyRuleApis).flat());
    this.limits = { responseLimitBytes: config.responseLimitBytes, recordMaxBytes: config.recordMaxBytes };
  }

  /**
   * @returns the plan of a Chat Completions call: forwarded byte for byte.
   * @throws InvalidUtf8Error, InvalidJsonError (400); ConfigError when no upstream serves its model.
   */
  chat(body: Buffer, req: IncomingMessage): CallPlan {
    const request = readJsonRequest(body);
    const route = this.route(request.model);
    return {
      ...this.passed(request, req.headers),
      endpoint: '/v1/chat/completions',
      upstream: this.upstream(route.base, '/chat/completions'),
      delivery: passThrough(this.limits, chatStreamRecord),
    };
  }

  /**
   * @returns the plan of an agent API call: passed through unchanged (with the client's query
   *   string) when its model's rule says the upstream speaks the API, else translated to Chat Completions.
   * @throws what the adapter's toChat throws (400s), InvalidUtf8Error; ConfigError when no upstream serves its model.
   */
  agent(api: AgentApi<unknown>, body: Buffer, req: IncomingMessage): CallPlan {
    const name = api.name as UpstreamApi;
    if (this.passedApis.has(name)) {
      const request = readJsonRequest(body, `a ${api.name} request`);
      const route = this.route(request.model);
      if (route.apis.includes(name)) {
        const upstream = this.upstream(route.base, api.endpoint.slice('/v1'.length), queryOf(req));
        const plan = this.passed(request, req.headers);
        return { ...plan, endpoint: api.endpoint, upstream, delivery: passThrough(this.limits, (max) => agentStreamRecord(api.name, max)), record: { ...plan.record!, endpoint: api.endpoint } };
      }
    }
    const translation = api.toChat(decodeUtf8(body));
    const model = translation.model === '' ? undefined : translation.model;
    const route = this.route(model);
    const chatBody = Buffer.from(translation.chat);
    return {
      endpoint: api.endpoint,
      model,
      stream: translation.stream,
      upstream: this.upstream(route.base, '/chat/completions'),
      body: chatBody,
      headers: translatedHeaders(req.headers, chatBody.length),
      delivery: translated({ api, state: translation.state, stream: translation.stream }, this.limits),
      record: { request: new RawJson(chatBody), endpoint: api.endpoint, agentRequest: new RawJson(body), dropped: translation.dropped },
    };
  }

  /**
   * @returns the plan of a count_tokens call whose model's rule passes Messages through, else
   *   undefined (the service answers its own estimate). Not recorded: a replay answers it with
   *   the estimate, so it must not take a recorded call's place.
   * @throws InvalidUtf8Error, InvalidJsonError (400) when a rule passes Messages through and the body is not a JSON object.
   */
  countTokens(body: Buffer, req: IncomingMessage): CallPlan | undefined {
    if (!this.passedApis.has('messages')) return undefined;
    const request = readJsonRequest(body, 'a count_tokens request');
    const route = upstreamRoute(this.config, request.model);
    if (route === undefined || !route.apis.includes('messages')) return undefined;
    return {
      ...this.passed(request, req.headers),
      endpoint: '/v1/messages/count_tokens',
      upstream: this.upstream(route.base, '/messages/count_tokens', queryOf(req)),
      delivery: passThrough(this.limits, (max) => agentStreamRecord('messages', max)),
      record: undefined,
    };
  }

  /** A request forwarded as it came. */
  private passed(request: JsonRequest, incoming: IncomingHttpHeaders): Omit<CallPlan, 'endpoint' | 'upstream' | 'delivery'> {
    this.models.add(request.model);
    return { model: request.model, stream: request.stream, body: request.body, headers: upstreamRequestHeaders(incoming, request.body.length), record: { request: request.json } };
  }

  private route(model: string | undefined): UpstreamRoute {
    this.models.add(model);
    const route = upstreamRoute(this.config, model);
    if (route === undefined) {
      throw new ConfigError(`no upstream for model ${JSON.stringify(model ?? null)}: set proxy_base_url, proxy_rules["${model ?? ''}"] or proxy_rules.default`);
    }
    return route;
  }

  private upstream(base: string, path: string, query = ''): Upstream {
    const key = `${base}\n${path}\n${query}`;
    let upstream = this.urls.get(key);
    if (upstream === undefined) {
      if (this.urls.size >= MAX_CACHED_URLS) this.urls.clear();
      const url = upstreamUrl(base, path, query);
      this.urls.set(key, (upstream = { url, logged: redactUrl(url.href) }));
    }
    return upstream;
  }
}

/** @returns the query string of the client's request, without `?` ('' when none). */
function queryOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

/**
 * The headers of a translated call: the client's end-to-end ones (as for chat), a JSON body,
 * and an Anthropic client's `x-api-key` as the `Authorization: Bearer` that Chat Completions
 * servers (vLLM's --api-key, SGLang, OpenAI) check, unless the client sent its own.
 */
function translatedHeaders(incoming: IncomingHttpHeaders, length: number): OutgoingHttpHeaders {
  const headers = upstreamRequestHeaders(incoming, length);
  headers['content-type'] = 'application/json';
  const key = incoming['x-api-key'];
  if (headers.authorization === undefined && typeof key === 'string' && key !== '') headers.authorization = `Bearer ${key}`;
  return headers;
}
