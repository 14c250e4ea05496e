import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceConfig } from '../config/types.js';
import { ConfigError, TimeoutError, UpstreamError } from '../errors.js';
import type { RouteContext } from '../http/http-service.js';
import { sendError } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import { openAiErrorBody } from '../wire/error-bodies.js';
import { retryAfterMs, retryDelayMs } from './backoff.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop.js';
import { isEventStream, passStream, readWhole, recordedBody } from './upstream-body.js';
import type { ProxyMetrics } from './metrics.js';
import type { CallRecord, CallRecorder } from './recorder.js';
import { readChatRequest, type ChatRequest } from './chat-request.js';
import { AttemptFailure, type UpstreamAttempt, type UpstreamClient } from './upstream-client.js';
import { chatCompletionsUrl, upstreamBase } from './upstream-base.js';

/** How one call ended, for the client and for the record. */
type Outcome =
  | { kind: 'answered'; status: number; response: unknown; error: string | null; complete: boolean }
  | { kind: 'failed'; failure: AttemptFailure; attempts: number }
  | { kind: 'client-gone'; response: unknown };

/** How one attempt ended. */
type AttemptResult = { retry: false; outcome: Outcome } | { retry: true; reason: string; retryAfterMs?: number };

/**
 * Proxy mode's forwarding backend (SPEC section 7): each call goes upstream byte for byte,
 * is retried on connection errors, timeouts and the retryable statuses, and comes back
 * unchanged; streams pass through as they arrive. Every forwarded call is recorded.
 */
export class ForwardingBackend {
  private readonly active = new Set<ServerResponse>();
  private stopping = false;
  private readonly onIdle: (() => void)[] = [];
  private readonly sleeping = new Set<() => void>();
  /** The chat-completions URL of each configured base: parsing it again cost a few µs of every call. */
  private readonly urls = new Map<string, URL>();

  constructor(
    private readonly config: ServiceConfig,
    private readonly client: UpstreamClient,
    private readonly recorder: CallRecorder | undefined,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Answers one POST /v1/chat/completions; once the call goes upstream every failure becomes an answer.
   * @throws InvalidJsonError, ConfigError (no upstream for the model) and the body's errors, before anything is sent.
   */
  async handle(ctx: RouteContext): Promise<void> {
    const { res } = ctx;
    const startedAt = new Date();
    const chat = readChatRequest(await ctx.body());
    const base = upstreamBase(this.config, chat.model);
    if (base === undefined) {
      throw new ConfigError(
        `no upstream for model ${JSON.stringify(chat.model ?? null)}: set proxy_base_url, proxy_rules["${chat.model ?? ''}"] or proxy_rules.default`,
      );
    }
    this.active.add(res);
    try {
      let url = this.urls.get(base);
      if (url === undefined) this.urls.set(base, (url = chatCompletionsUrl(base)));
      const outcome = await this.forward(url, chat, ctx.req.headers, res);
      this.finish(chat, outcome, res, startedAt);
    } finally {
      this.active.delete(res);
      if (this.active.size === 0) for (const resolve of this.onIdle.splice(0)) resolve();
    }
  }

  /**
   * Ends the calls under way (their clients get 502, or a stream cut short) without further
   * attempts, and closes the upstream connections.
   * @returns once every call has been answered and handed to the recorder.
   */
  async close(): Promise<void> {
    this.stopping = true;
    for (const wake of this.sleeping) wake();
    this.client.close();
    if (this.active.size > 0) await new Promise<void>((resolve) => this.onIdle.push(resolve));
  }

  private async forward(url: URL, chat: ChatRequest, incoming: IncomingHttpHeaders, res: ServerResponse): Promise<Outcome> {
    const headers = upstreamRequestHeaders(incoming, chat.body.length);
    let clientGone = false;
    let current: UpstreamAttempt | undefined;
    let wake: (() => void) | undefined;
    const onClose = () => {
      if (res.writableFinished) return;
      clientGone = true;
      current?.abort();
      wake?.();
    };
    res.on('close', onClose);
    const { maxAttempts } = this.config.retry;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.stopping) return { kind: 'failed', failure: new AttemptFailure('connection', 'the model service is stopping'), attempts: attempt - 1 };
        current = this.client.send(url, headers, chat.body);
        const result = await this.runAttempt(current, res, attempt < maxAttempts, () => clientGone);
        if (clientGone) return { kind: 'client-gone', response: result.retry ? null : responseOf(result.outcome) };
        if (!result.retry) return result.outcome.kind === 'failed' ? { ...result.outcome, attempts: attempt } : result.outcome;
        if (this.stopping) continue;
        if (current.reusedSocket && result.reason === 'connection_error' && attempt === 1) {
          // The server closed an idle pooled connection as we reused it: not the upstream's fault, resend at once.
          continue;
        }
        this.metrics.retries.inc({ reason: result.reason });
        const delayMs = retryDelayMs(attempt, this.config.retry, result.retryAfterMs);
        this.log.warn({ url: url.href, attempt, reason: result.reason, delayMs }, 'upstream attempt failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          this.sleeping.add(wake);
        });
        this.sleeping.delete(wake!);
        wake = undefined;
        if (clientGone) return { kind: 'client-gone', response: null };
      }
    } finally {
      res.off('close', onClose);
    }
  }

  private async runAttempt(
    attempt: UpstreamAttempt,
    res: ServerResponse,
    mayRetry: boolean,
    clientGone: () => boolean,
  ): Promise<AttemptResult> {
    const started = performance.now();
    const observe = (outcome: string) => {
      this.metrics.upstreamSeconds.observe({ outcome }, (performance.now() - started) / 1000);
      this.metrics.upstreamAttempts.inc({ outcome });
    };
    let upstream: IncomingMessage;
    try {
      upstream = await attempt.response;
    } catch (err) {
      const failure = err as AttemptFailure;
      const outcome = failure.kind === 'timeout' ? 'timeout' : 'connection_error';
      observe(outcome);
      if (mayRetry && !failure.permanent && !clientGone()) return { retry: true, reason: outcome };
      return { retry: false, outcome: { kind: 'failed', failure, attempts: 0 } };
    }
    const status = upstream.statusCode ?? 502;
    if (mayRetry && this.config.retryableStatusCodes.includes(status)) {
      // Read the unwanted answer to its end so its connection goes back to the pool.
      upstream.resume();
      observe(String(status));
      return { retry: true, reason: String(status), retryAfterMs: retryAfterMs(upstream.headers['retry-after']) };
    }
    const body = isEventStream(upstream) ? await passStream(attempt, upstream, res, this.log) : await readWhole(attempt, upstream);
    if (body.failure) {
      observe(body.failure.kind === 'timeout' ? 'timeout' : 'connection_error');
      if (body.sent === 0 && mayRetry && !clientGone()) return { retry: true, reason: body.failure.kind === 'timeout' ? 'timeout' : 'connection_error' };
      if (body.sent === 0) return { retry: false, outcome: { kind: 'failed', failure: body.failure, attempts: 0 } };
      // Part of a stream already reached the client: it keeps what it got; the connection ends.
      res.destroy();
      return {
        retry: false,
        outcome: { kind: 'answered', status, response: body.response, error: `${body.failure.message} (after ${body.sent} bytes of the stream)`, complete: false },
      };
    }
    observe(String(status));
    let response = body.response;
    if (body.whole !== undefined) {
      const out = clientResponseHeaders(upstream.headers);
      out['content-length'] = body.whole.length;
      res.writeHead(status, out);
      res.end(body.whole);
      // Read for the record only once the client has its answer.
      response = recordedBody(body.whole);
    }
    const ok = status >= 200 && status < 300;
    const error = ok ? null : `the upstream answered ${status}`;
    return { retry: false, outcome: { kind: 'answered', status, response, error, complete: true } };
  }

  private finish(chat: ChatRequest, outcome: Outcome, res: ServerResponse, startedAt: Date): void {
    let statusCode: number;
    let success = false;
    let response: unknown = null;
    let error: string | null;
    switch (outcome.kind) {
      case 'answered':
        statusCode = outcome.status;
        success = outcome.complete && outcome.status >= 200 && outcome.status < 300;
        response = outcome.response;
        error = outcome.error;
        break;
      case 'failed': {
        const timedOut = outcome.failure.kind === 'timeout';
        statusCode = timedOut ? 504 : 502;
        error = `${outcome.failure.message}; gave up after ${outcome.attempts} attempt(s)`;
        sendError(res, timedOut ? new TimeoutError(error, this.client.timeoutMs) : new UpstreamError(error), openAiErrorBody);
        break;
      }
      case 'client-gone':
        // nginx's "client closed request": nobody got an answer.
        statusCode = 499;
        response = outcome.response;
        error = 'the client closed the connection before the answer was complete';
        break;
    }
    if (!this.recorder) return;
    const endedAt = new Date();
    const record: CallRecord = {
      model: chat.model ?? null,
      stream: chat.stream,
      status: success ? 'success' : 'failure',
      status_code: statusCode,
      response_time: (endedAt.getTime() - startedAt.getTime()) / 1000,
      start_time: startedAt.toISOString(),
      end_time: endedAt.toISOString(),
      request: chat.json,
      response,
      error,
    };
    this.recorder.append(record);
  }
}

function responseOf(outcome: Outcome): unknown {
  return outcome.kind === 'failed' ? null : outcome.response;
}
