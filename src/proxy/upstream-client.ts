import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { envProxies, proxyFor, type EnvProxies } from './env-proxy.js';
import { redactUrl } from '../config/redact-url.js';

/**
 * Why an attempt got no complete answer: the upstream went silent, the connection failed, or
 * the answer passed the response limit.
 */
export class AttemptFailure extends Error {
  /** True when another attempt cannot help (the upstream's certificate is not trusted, the answer is too large). */
  readonly permanent: boolean;

  constructor(
    readonly kind: 'timeout' | 'connection' | 'too_large',
    message: string,
    options?: { cause?: unknown; permanent?: boolean },
  ) {
    super(message, options);
    this.permanent = options?.permanent ?? false;
  }
}

// OpenSSL's verification codes (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT…) and Node's ERR_TLS_CERT_ALTNAME_INVALID.
const CERTIFICATE_ERROR = /CERT|ERR_TLS_/;

/** How calls to one upstream URL travel: the agent, and the proxy it goes through (redacted, for messages). */
export interface Route {
  agent: http.Agent;
  proxy: string | undefined;
}

/** The proxies the environment names, and the maker of an agent through one (loaded only when there are proxies). */
interface Outbound {
  proxies: EnvProxies;
  makeAgent(proxy: URL, target: URL): http.Agent;
}

/**
 * Sends attempts upstream over keep-alive connections with node:http, through the outbound
 * proxy that `http_proxy` / `https_proxy` / `no_proxy` name when they are set. Measured against
 * Node 20's global fetch (undici) on loopback with a 2 KB request: p50 0.04 ms vs 0.17-0.34 ms
 * for one client, and 11-22k vs 3-4.5k requests/s for 64.
 */
export class UpstreamClient {
  private readonly direct: { http: Route; https: Route } = {
    http: { agent: new http.Agent({ keepAlive: true, scheduling: 'lifo' }), proxy: undefined },
    https: { agent: new https.Agent({ keepAlive: true, scheduling: 'lifo' }), proxy: undefined },
  };
  /** By URL object: the backend parses each upstream URL once, so this is one lookup per call. */
  private readonly routes = new WeakMap<URL, Route>();
  /** One pool per proxy and target protocol. */
  private readonly proxyRoutes = new Map<string, Route>();

  private constructor(
    readonly timeoutMs: number,
    private readonly outbound: Outbound | undefined,
  ) {}

  /**
   * @param timeoutMs the longest the upstream may stay silent within one attempt, like the reference's httpx timeout.
   * @param env where the proxy variables are read; the proxy agents are loaded only when one is set.
   * @returns a client.
   * @throws ConfigError when a proxy variable is not an http(s) URL.
   */
  static async create(timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<UpstreamClient> {
    const proxies = envProxies(env);
    if (proxies === undefined) return new UpstreamClient(timeoutMs, undefined);
    const { proxyAgent } = await import('./proxy-agents.js');
    return new UpstreamClient(timeoutMs, { proxies, makeAgent: proxyAgent });
  }

  /** @returns the outbound proxies in use, redacted for a log line (nothing when none is set). */
  describeProxies(): { httpProxy?: string; httpsProxy?: string; noProxy?: string } {
    if (this.outbound === undefined) return {};
    const { http: forHttp, https: forHttps, noProxy } = this.outbound.proxies;
    return {
      ...(forHttp ? { httpProxy: redactUrl(forHttp.href) } : {}),
      ...(forHttps ? { httpsProxy: redactUrl(forHttps.href) } : {}),
      ...(noProxy.list ? { noProxy: noProxy.list } : {}),
    };
  }

  /** @returns the attempt, already under way. */
  send(url: URL, headers: OutgoingHttpHeaders, body: Buffer): UpstreamAttempt {
    return new UpstreamAttempt(url, headers, body, this.timeoutMs, this.route(url));
  }

  /** Closes the pooled connections. */
  close(): void {
    this.direct.http.agent.destroy();
    this.direct.https.agent.destroy();
    for (const route of this.proxyRoutes.values()) route.agent.destroy();
  }

  private route(url: URL): Route {
    const straight = url.protocol === 'https:' ? this.direct.https : this.direct.http;
    if (this.outbound === undefined) return straight;
    let route = this.routes.get(url);
    if (route === undefined) {
      route = this.proxyRoute(this.outbound, url) ?? straight;
      this.routes.set(url, route);
    }
    return route;
  }

  private proxyRoute(outbound: Outbound, url: URL): Route | undefined {
    const proxy = proxyFor(outbound.proxies, url);
    if (proxy === undefined) return undefined;
    const key = `${url.protocol} ${proxy.href}`;
    let route = this.proxyRoutes.get(key);
    if (route === undefined) this.proxyRoutes.set(key, (route = { agent: outbound.makeAgent(proxy, url), proxy: redactUrl(proxy.href) }));
    return route;
  }
}

/** One request upstream: its answer's head, and a way to tell why its body stopped. */
export class UpstreamAttempt {
  /** Resolves with the answer's head; rejects with an AttemptFailure. */
  readonly response: Promise<IncomingMessage>;
  private readonly request: ClientRequest;
  private failure: AttemptFailure | undefined;
  private readonly proxy: string | undefined;
  /**
   * Settles `response` with a failure. A request destroyed before it has a socket (a proxy agent
   * still waiting for its CONNECT answer) emits no error, so stopping it must settle it here.
   */
  private readonly rejectHead: (err: AttemptFailure) => void;

  constructor(url: URL, headers: OutgoingHttpHeaders, body: Buffer, timeoutMs: number, route: Route) {
    this.proxy = route.proxy;
    const transport = url.protocol === 'https:' ? https : http;
    let resolveHead!: (res: IncomingMessage) => void;
    let rejectHead!: (err: AttemptFailure) => void;
    this.response = new Promise((resolve, reject) => {
      resolveHead = resolve;
      rejectHead = reject;
    });
    this.rejectHead = rejectHead;
    this.request = transport.request(url, { method: 'POST', headers, agent: route.agent }, resolveHead);
    const timedOut = () => {
      this.failure ??= new AttemptFailure('timeout', `the upstream ${url.origin} sent nothing for ${timeoutMs / 1000} s${this.through()}`);
      this.request.destroy(this.failure);
    };
    // One Node timer each: the config holds request_timeout to 2^31-1 ms in proxy mode.
    this.request.setTimeout(timeoutMs, timedOut);
    if (route.proxy !== undefined) {
      // The request has no socket, so no idle timer, until the proxy has answered CONNECT: a proxy
      // that never answers would hold the call for ever. (Its half-open connection stays inside
      // the proxy agent until the proxy drops it.)
      const connecting = setTimeout(() => {
        timedOut();
        rejectHead(this.failure!);
      }, timeoutMs);
      this.request.once('socket', () => clearTimeout(connecting)).once('close', () => clearTimeout(connecting));
    }
    this.request.on('error', (err) => rejectHead(this.failureOf(err)));
    this.request.end(body);
  }

  /** True when the connection was reused from the pool: a reset there is the server closing an idle connection. */
  get reusedSocket(): boolean {
    return this.request.reusedSocket;
  }

  /** @returns the AttemptFailure behind `err` (an error of the request or of the answer's body). */
  failureOf(err: Error): AttemptFailure {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    this.failure ??= new AttemptFailure('connection', `connection to the upstream failed${this.through()}: ${err.message}`, {
      cause: err,
      permanent: CERTIFICATE_ERROR.test(code),
    });
    return this.failure;
  }

  private through(): string {
    return this.proxy === undefined ? '' : ` (through the proxy ${this.proxy})`;
  }

  /** Stops the attempt (the client went away, or its answer is not wanted); with `failure`, that is why it stopped. */
  abort(failure?: AttemptFailure): void {
    this.failure ??= failure ?? new AttemptFailure('connection', 'the attempt was stopped before its answer was complete');
    this.request.destroy();
    this.rejectHead(this.failure);
  }
}
