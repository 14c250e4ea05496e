import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/**
 * The outbound proxies the environment names, read the way the reference's httpx reads them
 * (through Python's urllib): `http_proxy` for http:// upstreams, `https_proxy` for https://
 * ones, `all_proxy` for either when its own is unset; each name in lower case first, then in
 * upper case; an empty value counts as unset; a value without a scheme is `http://`.
 * `no_proxy` lists the hosts reached directly (see {@link NoProxy}).
 */
export interface EnvProxies {
  http: URL | undefined;
  https: URL | undefined;
  noProxy: NoProxy;
}

/**
 * Reads the proxy variables of `env`.
 * @returns the proxies, or undefined when no proxy variable is set (the common case: nothing more to load).
 * @throws ConfigError naming the variable when its value is not an http(s) proxy URL (a SOCKS proxy is not supported).
 */
export function envProxies(env: NodeJS.ProcessEnv): EnvProxies | undefined {
  const all = proxyVariable(env, 'all_proxy');
  const http = proxyVariable(env, 'http_proxy') ?? all;
  const https = proxyVariable(env, 'https_proxy') ?? all;
  if (http === undefined && https === undefined) return undefined;
  return { http, https, noProxy: new NoProxy(variable(env, 'no_proxy')?.value ?? '') };
}

/** @returns the proxy a call to `target` goes through, or undefined to go straight. */
export function proxyFor(proxies: EnvProxies, target: URL): URL | undefined {
  const proxy = target.protocol === 'https:' ? proxies.https : proxies.http;
  return proxy === undefined || proxies.noProxy.matches(target) ? undefined : proxy;
}

function variable(env: NodeJS.ProcessEnv, lower: string): { name: string; value: string } | undefined {
  for (const name of [lower, lower.toUpperCase()]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function proxyVariable(env: NodeJS.ProcessEnv, lower: string): URL | undefined {
  const found = variable(env, lower);
  if (found === undefined) return undefined;
  const text = found.value.includes('://') ? found.value : `http://${found.value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${found.name} is not a URL; set it to a proxy such as http://proxy.example:3128, or unset it`, found.name);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `${found.name} names a ${url.protocol.slice(0, -1)} proxy, which proxy mode does not support; use an http:// or https:// proxy, or unset it`,
      found.name,
    );
  }
  return url;
}

const DEFAULT_PORT: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * The hosts of `no_proxy`, reached without the proxy: entries separated by commas or spaces,
 * `*` for every host; a domain (`example.com`, `.example.com` or `*.example.com`) matches
 * itself and every subdomain, as curl and Go read it; an IP address or a CIDR block
 * (`10.0.0.0/8`, which Kubernetes clusters list) matches the addresses in it; any entry may
 * end in `:port` to match that port only.
 */
export class NoProxy {
  private readonly everything: boolean;
  private readonly domains: { domain: string; port: string | undefined }[] = [];
  private readonly addresses: { block: BlockList; port: string | undefined }[] = [];

  /** @param list the variable's value, as given (kept for log lines). */
  constructor(readonly list: string) {
    const entries = list.toLowerCase().split(/[\s,]+/).filter((e) => e !== '');
    this.everything = entries.includes('*');
    for (const raw of entries) {
      const { host, port } = hostAndPort(raw.replace(/^[a-z][a-z0-9+.-]*:\/\//, ''));
      const [address, prefix] = host.split('/');
      const family = isIP(address!);
      if (family === 0) {
        const domain = host.replace(/^\*?\.?/, '');
        if (domain !== '') this.domains.push({ domain, port });
        continue;
      }
      const block = new BlockList();
      const type = family === 4 ? 'ipv4' : 'ipv6';
      try {
        if (prefix === undefined) block.addAddress(address!, type);
        else block.addSubnet(address!, Number(prefix), type);
      } catch {
        // A prefix out of range (10.0.0.0/99) is no block: the entry matches nothing.
        continue;
      }
      this.addresses.push({ block, port });
    }
  }

  /** @returns whether calls to `target` skip the proxy. */
  matches(target: URL): boolean {
    if (this.everything) return true;
    const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = target.port || DEFAULT_PORT[target.protocol] || '';
    const family = isIP(host);
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      return this.addresses.some((a) => (a.port === undefined || a.port === port) && a.block.check(host, type));
    }
    return this.domains.some((d) => (d.port === undefined || d.port === port) && (host === d.domain || host.endsWith(`.${d.domain}`)));
  }
}

/** `host:port`, `[v6]:port`, or a host alone (a bare IPv6 address has colons but no port). */
function hostAndPort(entry: string): { host: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] };
  if (isIP(entry.split('/')[0]!) === 6) return { host: entry, port: undefined };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1]!, port: withPort[2] } : { host: entry, port: undefined };
}
