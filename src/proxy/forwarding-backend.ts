import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceConfig } from '../config/types.js';
import { ConfigError, ResponseTooLargeError, TimeoutError, UpstreamError } from '../errors.js';
import type { RouteContext } from '../http/http-service.js';
import { sendError } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import type { RecordTruncation } from '../wire/chat-stream-aggregator.js';
import { openAiErrorBody } from '../wire/error-bodies.js';
import { retryAfterMs, retryDelayMs } from './backoff.js';
import { readChatRequest, type ChatRequest } from './chat-request.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop.js';
import { countTokens, type ProxyMetrics } from './metrics.js';
import type { CallRecord, CallRecorder } from './recorder.js';
import { discardBody, isEventStream, passStream, readWhole, recordedBody } from './upstream-body.js';
import { chatCompletionsUrl, redactUrl, upstreamBase } from './upstream-base.js';
import { AttemptFailure, type UpstreamAttempt, type UpstreamClient } from './upstream-client.js';

/** How one call ended, for the client and for the record. */
type Outcome =
  | { kind: 'answered'; status: number; response: unknown; error: string | null; complete: boolean; truncated?: RecordTruncation; usage?: unknown }
  | { kind: 'failed'; failure: AttemptFailure; attempts: number; truncated?: RecordTruncation }
  | { kind: 'client-gone'; response: unknown; truncated?: RecordTruncation };

/** How one attempt ended. */
type AttemptResult = { retry: false; outcome: Outcome } | { retry: true; reason: string; detail?: string; retryAfterMs?: number };

/** One upstream URL, parsed once, with the form of it a log line may show. */
interface Upstream {
  url: URL;
  /** Credentials (user:password@, key=… parameters) replaced by `***`. */
  logged: string;
}

/** One call under way: what its log lines and metrics say about it. */
interface Call {
  chat: ChatRequest;
  requestId: string;
  /** The bounded `model` label (ModelLabels). */
  model: string;
  upstream: Upstream;
  res: ServerResponse;
}

/**
 * Proxy mode's forwarding backend (SPEC section 7): each call goes upstream byte for byte,
 * is retried on connection errors, timeouts and the retryable statuses, and comes back
 * unchanged; streams pass through as they arrive. Every forwarded call is recorded, and what
 * happens upstream (an attempt failed, the proxy gave up, the client left) is one log line
 * each, without bodies or credentials.
 */
export class ForwardingBackend {
  private readonly active = new Set<ServerResponse>();
  private stopping = false;
  private readonly onIdle: (() => void)[] = [];
  private readonly sleeping = new Set<() => void>();
  /** Each configured base's chat-completions URL: parsing it again cost a few µs of every call. */
  private readonly upstreams = new Map<string, Upstream>();

  constructor(
    private readonly config: ServiceConfig,
    private readonly client: UpstreamClient,
    private readonly recorder: CallRecorder | undefined,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Answers one POST /v1/chat/completions; once the call goes upstream every failure becomes an answer.
   * @throws InvalidUtf8Error, InvalidJsonError, ConfigError (no upstream for the model) and the body's errors, before anything is sent.
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
    let upstream = this.upstreams.get(base);
    if (upstream === undefined) {
      const url = chatCompletionsUrl(base);
      this.upstreams.set(base, (upstream = { url, logged: redactUrl(url.href) }));
    }
    const call: Call = { chat, requestId: ctx.requestId, model: this.metrics.models.label(chat.model), upstream, res };
    this.active.add(res);
    try {
      const outcome = await this.forward(call, ctx.req.headers);
      this.finish(call, outcome, startedAt);
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

  /** The fields every log line about `call` carries. */
  private about(call: Call): Record<string, unknown> {
    return { requestId: call.requestId, model: call.model, upstream: call.upstream.logged };
  }

  private async forward(call: Call, incoming: IncomingHttpHeaders): Promise<Outcome> {
    const { chat, res } = call;
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
    const left = (attempt: number, outcome: Outcome & { kind: 'client-gone' }): Outcome => {
      this.log.info({ ...this.about(call), attempt }, 'the client closed its connection before its answer was complete; the upstream call is stopped');
      return outcome;
    };
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.stopping) return { kind: 'failed', failure: new AttemptFailure('connection', 'the model service is stopping'), attempts: attempt - 1 };
        current = this.client.send(call.upstream.url, headers, chat.body);
        const result = await this.runAttempt(call, current, attempt < maxAttempts, () => clientGone);
        if (clientGone) {
          const gone = result.retry ? null : result.outcome;
          return left(attempt, { kind: 'client-gone', response: gone === null ? null : responseOf(gone), truncated: gone?.truncated });
        }
        if (!result.retry) {
          const { outcome } = result;
          if (outcome.kind === 'failed') {
            this.log.warn({ ...this.about(call), attempts: attempt, reason: outcome.failure.message }, 'upstream call failed; gave up');
            return { ...outcome, attempts: attempt };
          }
          if (outcome.kind === 'answered' && attempt > 1 && this.config.retryableStatusCodes.includes(outcome.status)) {
            this.log.warn({ ...this.about(call), attempts: attempt, status: outcome.status }, 'upstream still answered a retryable status on the last attempt; gave up and passed it on');
          }
          return outcome;
        }
        if (this.stopping) continue;
        if (current.reusedSocket && result.reason === 'connection_error' && attempt === 1) {
          // The server closed an idle pooled connection as we reused it: not the upstream's fault, resend at once.
          continue;
        }
        this.metrics.retries.inc({ reason: result.reason, model: call.model });
        const delayMs = retryDelayMs(attempt, this.config.retry, result.retryAfterMs);
        this.log.warn(
          { ...this.about(call), attempt, of: maxAttempts, reason: result.reason, ...(result.detail ? { detail: result.detail } : {}), delayMs },
          'upstream attempt failed; retrying',
        );
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
        if (clientGone) return left(attempt, { kind: 'client-gone', response: null });
      }
    } finally {
      res.off('close', onClose);
    }
  }

  private async runAttempt(call: Call, attempt: UpstreamAttempt, mayRetry: boolean, clientGone: () => boolean): Promise<AttemptResult> {
    const { res } = call;
    const started = performance.now();
    const observe = (outcome: string) => {
      this.metrics.upstreamSeconds.observe({ outcome, model: call.model }, (performance.now() - started) / 1000);
      this.metrics.upstreamAttempts.inc({ outcome, model: call.model });
    };
    let upstream: IncomingMessage;
    try {
      upstream = await attempt.response;
    } catch (err) {
      const failure = err as AttemptFailure;
      const outcome = failureOutcome(failure);
      observe(outcome);
      if (mayRetry && !failure.permanent && !clientGone()) return { retry: true, reason: outcome, detail: failure.message };
      return { retry: false, outcome: { kind: 'failed', failure, attempts: 0 } };
    }
    const status = upstream.statusCode ?? 502;
    if (mayRetry && this.config.retryableStatusCodes.includes(status)) {
      discardBody(attempt, upstream, this.config.responseLimitBytes);
      observe(String(status));
      return { retry: true, reason: String(status), retryAfterMs: retryAfterMs(upstream.headers['retry-after']) };
    }
    const body = isEventStream(upstream)
      ? await passStream(attempt, upstream, res, this.config.recordMaxBytes)
      : await readWhole(attempt, upstream, this.config.responseLimitBytes);
    if (body.skipped) this.log.warn({ ...this.about(call), skipped: body.skipped }, 'stream events that are not JSON were passed on but left out of the record');
    if (body.failure) {
      const outcome = failureOutcome(body.failure);
      observe(outcome);
      if (body.sent === 0 && mayRetry && !body.failure.permanent && !clientGone()) return { retry: true, reason: outcome, detail: body.failure.message };
      if (body.sent === 0) return { retry: false, outcome: { kind: 'failed', failure: body.failure, attempts: 0, truncated: body.truncated } };
      // Part of a stream already reached the client: it keeps what it got; the connection ends.
      res.destroy();
      if (!clientGone()) this.log.warn({ ...this.about(call), sentBytes: body.sent, reason: body.failure.message }, 'upstream stream broke after part of it reached the client');
      return {
        retry: false,
        outcome: {
          kind: 'answered',
          status,
          response: body.response,
          error: `${body.failure.message} (after ${body.sent} bytes of the stream)`,
          complete: false,
          truncated: body.truncated,
          usage: body.usage,
        },
      };
    }
    observe(String(status));
    let { response, truncated, usage } = body;
    if (body.whole !== undefined) {
      const out = clientResponseHeaders(upstream.headers);
      out['content-length'] = body.whole.length;
      res.writeHead(status, out);
      res.end(body.whole);
      // Read for the record only once the client has its answer.
      ({ response, truncated, usage } = recordedBody(body.whole));
    }
    if (truncated !== undefined) this.log.info({ ...this.about(call), truncated }, 'the record of this call leaves part of the answer out');
    const ok = status >= 200 && status < 300;
    const error = ok ? null : `the upstream answered ${status}`;
    return { retry: false, outcome: { kind: 'answered', status, response, error, complete: true, truncated, usage } };
  }

  private finish(call: Call, outcome: Outcome, startedAt: Date): void {
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
        countTokens(this.metrics.tokens, call.model, outcome.usage);
        break;
      case 'failed': {
        const { failure } = outcome;
        error = `${failure.message}; gave up after ${outcome.attempts} attempt(s)`;
        const answer =
          failure.kind === 'timeout'
            ? new TimeoutError(error, this.client.timeoutMs)
            : failure.kind === 'too_large'
              ? new ResponseTooLargeError(`${failure.message}: raise response_limit in the config if answers this large are expected`)
              : new UpstreamError(error);
        statusCode = sendError(call.res, answer, openAiErrorBody).status;
        break;
      }
      case 'client-gone':
        // nginx's "client closed request": nobody got an answer.
        statusCode = 499;
        response = outcome.response;
        error = 'the client closed the connection before the answer was complete';
        break;
    }
    this.metrics.calls.inc({ status: String(statusCode), model: call.model });
    if (!this.recorder) return;
    const endedAt = new Date();
    const record: CallRecord = {
      model: call.chat.model ?? null,
      stream: call.chat.stream,
      status: success ? 'success' : 'failure',
      status_code: statusCode,
      response_time: (endedAt.getTime() - startedAt.getTime()) / 1000,
      start_time: startedAt.toISOString(),
      end_time: endedAt.toISOString(),
      request: call.chat.json,
      response,
      error,
    };
    if (outcome.truncated !== undefined) record.truncated = outcome.truncated;
    this.recorder.append(record);
  }
}

function failureOutcome(failure: AttemptFailure): string {
  return failure.kind === 'timeout' ? 'timeout' : failure.kind === 'too_large' ? 'too_large' : 'connection_error';
}


function responseOf(outcome: Outcome): unknown {
  return outcome.kind === 'failed' ? null : outcome.response;
}
