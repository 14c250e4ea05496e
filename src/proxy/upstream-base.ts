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
