/**
 * Keep-alive agents that reach an upstream through an outbound HTTP(S) proxy. Loaded only when
 * a proxy variable is set: the two packages cost ~70-150 ms to import on this (busy) machine,
 * which neither local mode nor a proxy mode without a proxy should pay.
 */
import type { Agent } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';

/**
 * @returns an agent for calls to `target`'s protocol through `proxy`: an http:// upstream gets
 *   each request in absolute form on a pooled connection to the proxy (as httpx and curl send
 *   it), an https:// upstream a CONNECT tunnel with TLS inside, also pooled.
 */
export function proxyAgent(proxy: URL, target: URL): Agent {
  // The agents open their sockets with net.connect, not through http.Agent, which would set noDelay itself.
  const options = { keepAlive: true, scheduling: 'lifo' as const, noDelay: true };
  return target.protocol === 'https:' ? new HttpsProxyAgent(proxy, options) : new HttpProxyAgent(proxy, options);
}
