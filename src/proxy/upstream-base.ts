import type { ServiceConfig, UpstreamApi } from '../config/types.js';
import { redactConfigUrl, redactUrl } from '../config/redact-url.js';

/** Where a call for one model goes, and which agent APIs that upstream speaks itself. */
export interface UpstreamRoute {
  base: string;
  /** The config key that named it: `proxy_base_url`, or `proxy_rules.<model>`. */
  key: string;
  /** The agent APIs passed through unchanged (the rest are translated to Chat Completions). */
  apis: readonly UpstreamApi[];
}

const NONE: readonly UpstreamApi[] = [];

/**
 * The upstream a call for `model` goes to: proxy_base_url, else proxy_rules[model], else
 * proxy_rules.default (docs/proxy.md).
 * @returns the route, or undefined when nothing is configured for this model.
 */
export function upstreamRoute(config: Pick<ServiceConfig, 'proxyBaseUrl' | 'proxyRules' | 'proxyRuleApis'>, model: string | undefined): UpstreamRoute | undefined {
  if (config.proxyBaseUrl) return { base: config.proxyBaseUrl, key: 'proxy_base_url', apis: NONE };
  const rule = model !== undefined && Object.hasOwn(config.proxyRules, model) ? model : Object.hasOwn(config.proxyRules, 'default') ? 'default' : undefined;
  if (rule === undefined) return undefined;
  return { base: config.proxyRules[rule]!, key: `proxy_rules.${rule}`, apis: Object.hasOwn(config.proxyRuleApis, rule) ? config.proxyRuleApis[rule]! : NONE };
}

/**
 * `<base><path>`: the path goes after the base's own path (with or without a trailing slash),
 * and the base's query stays a query (Azure-style bases carry `?api-version=…`); `query` (the
 * client's own, without `?`) is appended to it.
 * @throws TypeError (ERR_INVALID_URL) when the base is not a URL; checkUpstreamBases refuses those at start.
 */
export function upstreamUrl(base: string, path: string, query = ''): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.hash = '';
  if (query !== '') url.search = url.search === '' ? query : `${url.search.slice(1)}&${query}`;
  return url;
}

/**
 * Checks that every configured base is an http(s) URL (flags and the library bypass the
 * config file's schema), so a typo fails the start instead of every call.
 * @throws ConfigError naming the key, with the value redacted.
 */
export function checkUpstreamBases(config: Pick<ServiceConfig, 'proxyBaseUrl' | 'proxyRules'>, refuse: (key: string, message: string) => Error): void {
  const bases: [string, string][] = Object.entries(config.proxyRules).map(([model, url]) => [`proxy_rules.${model}`, url]);
  if (config.proxyBaseUrl !== undefined) bases.unshift(['proxy_base_url', config.proxyBaseUrl]);
  for (const [key, base] of bases) {
    let url: URL | undefined;
    try {
      url = new URL(base);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw refuse(key, `${key} must be an http(s) URL such as http://127.0.0.1:8000/v1, got ${JSON.stringify(redactConfigUrl(base))}`);
    }
  }
}

/**
 * proxy_base_url and proxy_rules as they may be logged (the start line): every URL through
 * redactUrl, and the APIs each rule passes through.
 * @returns a new object; the config is not changed.
 */
export function redactedUpstreams(config: Pick<ServiceConfig, 'proxyBaseUrl' | 'proxyRules' | 'proxyRuleApis'>): {
  proxyBaseUrl: string | undefined;
  proxyRules: Record<string, string>;
  passThrough?: Record<string, readonly UpstreamApi[]>;
} {
  const passThrough = Object.keys(config.proxyRuleApis).length > 0 ? { passThrough: config.proxyRuleApis } : {};
  return {
    proxyBaseUrl: config.proxyBaseUrl === undefined ? undefined : redactUrl(config.proxyBaseUrl),
    proxyRules: Object.fromEntries(Object.entries(config.proxyRules).map(([model, url]) => [model, redactUrl(url)])),
    ...passThrough,
  };
}
