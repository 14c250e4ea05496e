import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { MAX_TIMER_MS } from '../time/long-timeout.js';
import { envProxies, proxyFor, type EnvProxies } from './env-proxy.js';
import { redactUrl } from './upstream-base.js';

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

type MakeProxyAgent = (proxy: URL, target: URL) => http.Agent;

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
    private readonly proxies: EnvProxies | undefined,
    private readonly makeProxyAgent: MakeProxyAgent | undefined,
  ) {}

  /**
   * @param timeoutMs the longest the upstream may stay silent within one attempt, like the reference's httpx timeout.
   * @param env where the proxy variables are read; the proxy agents are loaded only when one is set.
   * @returns a client.
   * @throws ConfigError when a proxy variable is not an http(s) URL.
   */
  static async create(timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<UpstreamClient> {
    const proxies = envProxies(env);
    const make = proxies === undefined ? undefined : (await import('./proxy-agents.js')).proxyAgent;
    return new UpstreamClient(timeoutMs, proxies, make);
  }

  /** @returns the outbound proxies in use, redacted for a log line (nothing when none is set). */
  describeProxies(): { httpProxy?: string; httpsProxy?: string; noProxy?: string } {
    if (this.proxies === undefined) return {};
    const { http: forHttp, https: forHttps, noProxy } = this.proxies;
    return {
      ...(forHttp ? { httpProxy: redactUrl(forHttp.href) } : {}),
      ...(forHttps ? { httpsProxy: redactUrl(forHttps.href) } : {}),
      ...(noProxy.list ? { noProxy: noProxy.list } : {}),
    };
  }

  /** @returns the attempt, already under way. */
  send(url: URL, headers: OutgoingHttpHeaders, body: Buffer): UpstreamAttempt {
    const route = this.route(url);
    return new UpstreamAttempt(url, headers, body, this.timeoutMs, route);
  }

  /** Closes the pooled connections. */
  close(): void {
    this.direct.http.agent.destroy();
    this.direct.https.agent.destroy();
    for (const route of this.proxyRoutes.values()) route.agent.destroy();
  }

  private route(url: URL): Route {
    const straight = url.protocol === 'https:' ? this.direct.https : this.direct.http;
    if (this.proxies === undefined) return straight;
    let route = this.routes.get(url);
    if (route === undefined) {
      const proxy = proxyFor(this.proxies, url);
      const key = proxy === undefined ? undefined : `${url.protocol}${proxy.href}`;
      route = key === undefined ? straight : this.proxyRoutes.get(key);
      if (route === undefined) {
        route = { agent: this.makeProxyAgent!(proxy!, url), proxy: redactUrl(proxy!.href) };
        this.proxyRoutes.set(key!, route);
      }
      this.routes.set(url, route);
    }
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

  constructor(url: URL, headers: OutgoingHttpHeaders, body: Buffer, timeoutMs: number, route: Route) {
    this.proxy = route.proxy;
    const transport = url.protocol === 'https:' ? https : http;
    let resolveHead!: (res: IncomingMessage) => void;
    let rejectHead!: (err: AttemptFailure) => void;
    this.response = new Promise((resolve, reject) => {
      resolveHead = resolve;
      rejectHead = reject;
    });
    this.request = transport.request(url, { method: 'POST', headers, agent: route.agent }, resolveHead);
    const timedOut = () => {
      this.failure ??= new AttemptFailure('timeout', `the upstream ${url.origin} sent nothing for ${timeoutMs / 1000} s${this.through()}`);
      this.request.destroy(this.failure);
    };
    // A socket's idle timer is a Node timer: past 2^31-1 ms it would fire at once. Silence that long is no limit at all.
    const idleMs = Math.min(timeoutMs, MAX_TIMER_MS);
    this.request.setTimeout(idleMs, timedOut);
    if (route.proxy !== undefined) {
      // The request has no socket, so neither an idle timer nor an error to report, until the proxy has
      // answered CONNECT: a proxy that never answers would hold the call for ever. (Its half-open
      // connection stays inside the proxy agent until the proxy drops it.)
      const connecting = setTimeout(() => {
        timedOut();
        rejectHead(this.failure!);
      }, idleMs);
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

  /** Stops the attempt (the client went away, or its answer is not wanted); with `failure`, that is why its body stopped. */
  abort(failure?: AttemptFailure): void {
    if (failure !== undefined) this.failure ??= failure;
    this.request.destroy();
  }
}
