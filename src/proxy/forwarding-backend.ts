import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceConfig } from '../config/types.js';
import { ResponseTooLargeError, TimeoutError, UpstreamError } from '../errors.js';
import type { RouteContext } from '../http/http-service.js';
import { sendError } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import type { RecordTruncation } from '../wire/chat-stream-aggregator.js';
import type { ErrorBodyShape } from '../wire/error-bodies.js';
import { retryAfterMs, retryDelayMs } from './backoff.js';
import type { CallPlan } from './call-plans.js';
import { countTokens, type ProxyMetrics } from './metrics.js';
import type { CallRecord, CallRecorder } from './recorder.js';
import { discardBody } from './upstream-body.js';
import { AttemptFailure, type UpstreamAttempt, type UpstreamClient } from './upstream-client.js';

/** How one call ended, for the client and for the record. */
type Outcome =
  | {
      kind: 'answered';
      status: number;
      response: unknown;
      error: string | null;
      complete: boolean;
      truncated?: RecordTruncation;
      usage?: unknown;
      agentResponse?: unknown;
    }
  | { kind: 'failed'; failure: AttemptFailure; attempts: number; truncated?: RecordTruncation }
  | { kind: 'client-gone'; response: unknown; truncated?: RecordTruncation; agentResponse?: unknown };

/** How one attempt ended. */
type AttemptResult = { retry: false; outcome: Outcome } | { retry: true; reason: string; detail?: string; retryAfterMs?: number };

/** One call under way: its plan, and what its log lines and metrics say about it. */
interface Call extends CallPlan {
  requestId: string;
  /** The bounded `model` label (ModelLabels). */
  label: string;
  res: ServerResponse;
  /** The error body shape of the route called. */
  shape: ErrorBodyShape;
}

/**
 * Proxy mode's forwarding backend (docs/proxy.md): each call goes upstream as its plan says
 * (byte for byte, or translated), is retried on connection errors, timeouts and the retryable
 * statuses, and comes back as its plan's delivery says; streams go on as they arrive. Every
 * planned record is written, and what happens upstream (an attempt failed, the proxy gave
 * up, the client left) is one log line each, without bodies or credentials.
 */
export class ForwardingBackend {
  private readonly active = new Set<ServerResponse>();
  private stopping = false;
  private readonly onIdle: (() => void)[] = [];
  private readonly sleeping = new Set<() => void>();

  constructor(
    private readonly config: ServiceConfig,
    private readonly client: UpstreamClient,
    private readonly recorder: CallRecorder | undefined,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Answers one call on `ctx` as `plan` makes it of the request body; once the call goes
   * upstream every failure becomes an answer.
   * @throws what reading the body and `plan` throw (400s; ConfigError when no upstream serves the model), before anything is sent.
   */
  async handle(ctx: RouteContext, plan: (body: Buffer) => CallPlan): Promise<void> {
    const { res } = ctx;
    const startedAt = new Date();
    const planned = plan(await ctx.body());
    const call: Call = { ...planned, requestId: ctx.requestId, label: this.metrics.models.label(planned.model), res, shape: ctx.shape };
    this.active.add(res);
    try {
      const outcome = await this.forward(call);
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
    const fields: Record<string, unknown> = { requestId: call.requestId, model: call.label, upstream: call.upstream.logged };
    if (call.endpoint !== '/v1/chat/completions') fields.endpoint = call.endpoint;
    return fields;
  }

  private async forward(call: Call): Promise<Outcome> {
    const { res } = call;
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
        current = this.client.send(call.upstream.url, call.headers, call.body);
        const result = await this.runAttempt(call, current, attempt < maxAttempts, () => clientGone);
        if (clientGone) {
          const gone = result.retry || result.outcome.kind === 'failed' ? undefined : result.outcome;
          return left(attempt, { kind: 'client-gone', response: gone?.response ?? null, truncated: result.retry ? undefined : result.outcome.truncated, agentResponse: gone?.agentResponse });
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
        this.metrics.retries.inc({ reason: result.reason, model: call.label });
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
      this.metrics.upstreamSeconds.observe({ outcome, model: call.label }, (performance.now() - started) / 1000);
      this.metrics.upstreamAttempts.inc({ outcome, model: call.label });
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
    const body = await call.delivery.deliver(attempt, upstream, res);
    if (body.skipped) this.log.warn({ ...this.about(call), skipped: body.skipped }, 'stream events that are not JSON were passed on but left out of the record');
    if (body.failure) {
      const outcome = failureOutcome(body.failure);
      observe(outcome);
      if (body.sent === 0 && mayRetry && !body.failure.permanent && !clientGone()) return { retry: true, reason: outcome, detail: body.failure.message };
      if (body.sent === 0) return { retry: false, outcome: { kind: 'failed', failure: body.failure, attempts: 0, truncated: body.truncated } };
      // Part of a stream already reached the client: it keeps what it got, and the connection ends
      // (unless the failure was told in the stream, which then ended).
      if (!body.ended) res.destroy();
      if (!clientGone()) this.log.warn({ ...this.about(call), sentBytes: body.sent, reason: body.failure.message }, 'upstream stream broke after part of it reached the client');
      return {
        retry: false,
        outcome: {
          kind: 'answered',
          status: body.status ?? status,
          response: body.response,
          error: `${body.failure.message} (after ${body.sent} bytes of the stream)`,
          complete: false,
          truncated: body.truncated,
          usage: body.usage,
          agentResponse: body.agentResponse,
        },
      };
    }
    observe(String(status));
    const { response, truncated, usage, agentResponse } = body;
    if (truncated !== undefined) this.log.info({ ...this.about(call), truncated }, 'the record of this call leaves part of the answer out');
    const answered = body.status ?? status;
    const ok = answered >= 200 && answered < 300 && body.error === undefined;
    const error = body.error ?? (ok ? null : `the upstream answered ${status}`);
    return { retry: false, outcome: { kind: 'answered', status: answered, response, error, complete: true, truncated, usage, agentResponse } };
  }

  private finish(call: Call, outcome: Outcome, startedAt: Date): void {
    let statusCode: number;
    let success = false;
    let response: unknown = null;
    let agentResponse: unknown = null;
    let error: string | null;
    let errorCode: string | undefined;
    switch (outcome.kind) {
      case 'answered':
        statusCode = outcome.status;
        success = outcome.complete && outcome.error === null && outcome.status >= 200 && outcome.status < 300;
        response = outcome.response;
        agentResponse = outcome.agentResponse ?? null;
        error = outcome.error;
        countTokens(this.metrics.tokens, call.label, outcome.usage);
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
        ({ status: statusCode, code: errorCode } = sendError(call.res, answer, call.shape));
        break;
      }
      case 'client-gone':
        // nginx's "client closed request": nobody got an answer.
        statusCode = 499;
        response = outcome.response;
        agentResponse = outcome.agentResponse ?? null;
        error = 'the client closed the connection before the answer was complete';
        break;
    }
    this.metrics.calls.inc({ status: String(statusCode), model: call.label });
    const planned = call.record;
    if (!this.recorder || planned === undefined) return;
    const endedAt = new Date();
    const record: CallRecord = {
      model: call.model ?? null,
      stream: call.stream,
      status: success ? 'success' : 'failure',
      status_code: statusCode,
      response_time: (endedAt.getTime() - startedAt.getTime()) / 1000,
      start_time: startedAt.toISOString(),
      end_time: endedAt.toISOString(),
      request: planned.request,
      response,
      error,
    };
    // The code the client got, so that a replay answers the failure with it.
    if (errorCode !== undefined) record.error_code = errorCode;
    if (planned.endpoint !== undefined) record.endpoint = planned.endpoint;
    if (planned.agentRequest !== undefined) {
      record.agent_request = planned.agentRequest;
      record.agent_response = agentResponse;
      if (planned.dropped !== undefined && planned.dropped.length > 0) record.dropped = planned.dropped;
    }
    if (outcome.truncated !== undefined) record.truncated = outcome.truncated;
    this.recorder.append(record);
  }
}

function failureOutcome(failure: AttemptFailure): string {
  return failure.kind === 'timeout' ? 'timeout' : failure.kind === 'too_large' ? 'too_large' : 'connection_error';
}
