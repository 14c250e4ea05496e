import type { ServiceConfig } from '../config/types.js';

/**
 * The base URL a call for `model` goes to: proxy_base_url, else proxy_rules[model], else
 * proxy_rules.default (SPEC section 7).
 * @returns the base URL, or undefined when nothing is configured for this model.
 */
export function upstreamBase(config: Pick<ServiceConfig, 'proxyBaseUrl' | 'proxyRules'>, model: string | undefined): string | undefined {
  if (config.proxyBaseUrl) return config.proxyBaseUrl;
  if (model !== undefined && Object.hasOwn(config.proxyRules, model)) return config.proxyRules[model];
  return Object.hasOwn(config.proxyRules, 'default') ? config.proxyRules.default : undefined;
}

/** `<base>/chat/completions`, with or without a trailing slash on the base. */
export function chatCompletionsUrl(base: string): URL {
  return new URL(`${base.replace(/\/+$/, '')}/chat/completions`);
}

/** Query parameters whose value is a credential (matched on the decoded name, any case). */
const SECRET_PARAMETER = /(^|[-_.])(api[-_.]?key|key|token|access[-_.]?token|secret|password|passwd|pwd|auth|authorization|signature|sig|credential|credentials|session)$/i;
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i;

/**
 * `url` as it may be logged: the user and password of `scheme://user:secret@host` become `***`,
 * and so does the value of every query parameter named like a credential (`api_key`, `key`,
 * `token`, `access_token`, `secret`, `password`, `sig`…). Everything else stays byte for byte,
 * and a string that is not a URL is handled the same way.
 * @returns the redacted text (the input itself when there was nothing to hide).
 */
export function redactUrl(url: string): string {
  let out = url.replace(USERINFO, (_match, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? '***:***' : '***'}@`);
  const query = out.indexOf('?');
  if (query === -1) return out;
  const fragment = out.indexOf('#', query);
  const end = fragment === -1 ? out.length : fragment;
  const params = out
    .slice(query + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      return SECRET_PARAMETER.test(decodeName(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=***` : pair;
    });
  out = `${out.slice(0, query + 1)}${params.join('&')}${out.slice(end)}`;
  return out;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

/**
 * proxy_base_url and proxy_rules as they may be logged (the start line): every URL through redactUrl.
 * @returns a new object; the config is not changed.
 */
export function redactedUpstreams(config: Pick<ServiceConfig, 'proxyBaseUrl' | 'proxyRules'>): { proxyBaseUrl: string | undefined; proxyRules: Record<string, string> } {
  return {
    proxyBaseUrl: config.proxyBaseUrl === undefined ? undefined : redactUrl(config.proxyBaseUrl),
    proxyRules: Object.fromEntries(Object.entries(config.proxyRules).map(([model, url]) => [model, redactUrl(url)])),
  };
}
