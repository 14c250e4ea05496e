import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';

/** Why an attempt got no complete answer: the upstream went silent, or the connection failed. */
export class AttemptFailure extends Error {
  /** True when another attempt cannot help (the upstream's certificate is not trusted). */
  readonly permanent: boolean;

  constructor(
    readonly kind: 'timeout' | 'connection',
    message: string,
    options?: { cause?: unknown; permanent?: boolean },
  ) {
    super(message, options);
    this.permanent = options?.permanent ?? false;
  }
}

// OpenSSL's verification codes (CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT…) and Node's ERR_TLS_CERT_ALTNAME_INVALID.
const CERTIFICATE_ERROR = /CERT|ERR_TLS_/;

/**
 * Sends attempts upstream over keep-alive connections with node:http. Measured against
 * Node 20's global fetch (undici) on loopback with a 2 KB request: p50 0.04 ms vs 0.17-0.34 ms
 * for one client, and 11-22k vs 3-4.5k requests/s for 64.
 */
export class UpstreamClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, scheduling: 'lifo' });

  /** @param timeoutMs the longest the upstream may stay silent within one attempt, like the reference's httpx timeout. */
  constructor(readonly timeoutMs: number) {}

  /** @returns the attempt, already under way. */
  send(url: URL, headers: OutgoingHttpHeaders, body: Buffer): UpstreamAttempt {
    return new UpstreamAttempt(url, headers, body, this.timeoutMs, url.protocol === 'https:' ? this.httpsAgent : this.httpAgent);
  }

  /** Closes the pooled connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** One request upstream: its answer's head, and a way to tell why its body stopped. */
export class UpstreamAttempt {
  /** Resolves with the answer's head; rejects with an AttemptFailure. */
  readonly response: Promise<IncomingMessage>;
  private readonly request: ClientRequest;
  private failure: AttemptFailure | undefined;

  constructor(url: URL, headers: OutgoingHttpHeaders, body: Buffer, timeoutMs: number, agent: http.Agent) {
    const transport = url.protocol === 'https:' ? https : http;
    let resolveHead!: (res: IncomingMessage) => void;
    let rejectHead!: (err: AttemptFailure) => void;
    this.response = new Promise((resolve, reject) => {
      resolveHead = resolve;
      rejectHead = reject;
    });
    this.request = transport.request(url, { method: 'POST', headers, agent }, resolveHead);
    this.request.setTimeout(timeoutMs, () => {
      this.failure ??= new AttemptFailure('timeout', `the upstream ${url.origin} sent nothing for ${timeoutMs / 1000} s`);
      this.request.destroy(this.failure);
    });
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
    this.failure ??= new AttemptFailure('connection', `connection to the upstream failed: ${err.message}`, {
      cause: err,
      permanent: CERTIFICATE_ERROR.test(code),
    });
    return this.failure;
  }

  /** Stops the attempt (the client went away, or its answer is not wanted). */
  abort(): void {
    this.request.destroy();
  }
}
