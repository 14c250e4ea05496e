import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceConfig } from '../config/types.js';
import { retryDelayMs } from './backoff.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop.js';
import type { ProxyMetrics } from './metrics.js';
import { sendOpenAiError } from './openai-error.js';
import { CallRecorder, RawJson, type CallRecord } from './recorder.js';
import { readChatRequest, type ChatRequest } from './chat-request.js';
import type { ProxyLog } from './proxy-log.js';
import { SseAggregator } from './sse-aggregator.js';
import { AttemptFailure, UpstreamClient, type UpstreamAttempt } from './upstream-client.js';
import { chatCompletionsUrl, upstreamBase } from './upstream-base.js';

/** How one call ended, for the client and for the record. */
type Outcome =
  | { kind: 'answered'; status: number; response: unknown; error: string | null; complete: boolean }
  | { kind: 'failed'; failure: AttemptFailure; attempts: number }
  | { kind: 'client-gone'; response: unknown };

/** How one attempt ended. */
type AttemptResult = { retry: false; outcome: Outcome } | { retry: true; reason: string };

const isEventStream = (res: IncomingMessage) => (res.headers['content-type'] ?? '').startsWith('text/event-stream');

/**
 * Proxy mode's forwarding backend (SPEC section 7): each call goes upstream byte for byte,
 * is retried on connection errors, timeouts and the retryable statuses, and comes back
 * unchanged; streams pass through as they arrive. Every forwarded call is recorded.
 */
export class ForwardingBackend {
  constructor(
    private readonly config: ServiceConfig,
    private readonly client: UpstreamClient,
    private readonly recorder: CallRecorder | undefined,
    private readonly metrics: ProxyMetrics,
    private readonly log: ProxyLog,
  ) {}

  /** Answers one POST /v1/chat/completions. Never throws: every failure becomes an answer. */
  async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    const startedAt = new Date();
    const chat = readChatRequest(request.body);
    if ('error' in chat) {
      sendOpenAiError(res, 400, chat.error, 'RMS_INVALID_JSON');
      return;
    }
    const base = upstreamBase(this.config, chat.model);
    if (base === undefined) {
      const message = `no upstream for model ${JSON.stringify(chat.model ?? null)}: set proxy_base_url, proxy_rules["${chat.model ?? ''}"] or proxy_rules.default`;
      sendOpenAiError(res, 400, message, 'RMS_CONFIG');
      return;
    }
    const outcome = await this.forward(chatCompletionsUrl(base), chat, request, res);
    this.finish(chat, outcome, res, startedAt);
  }

  private async forward(url: URL, chat: ChatRequest, request: FastifyRequest, res: ServerResponse): Promise<Outcome> {
    const headers = upstreamRequestHeaders(request.headers, chat.body.length);
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
        current = this.client.send(url, headers, chat.body);
        const result = await this.runAttempt(current, res, attempt < maxAttempts, () => clientGone);
        if (clientGone) return { kind: 'client-gone', response: result.retry ? null : responseOf(result.outcome) };
        if (!result.retry) return result.outcome.kind === 'failed' ? { ...result.outcome, attempts: attempt } : result.outcome;
        if (current.reusedSocket && result.reason === 'connection_error' && attempt === 1) {
          // The server closed an idle pooled connection as we reused it: not the upstream's fault, resend at once.
          continue;
        }
        this.metrics.retries.inc({ reason: result.reason });
        const delayMs = retryDelayMs(attempt, this.config.retry);
        this.log.warn({ url: url.href, attempt, reason: result.reason, delayMs }, 'upstream attempt failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
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
      return { retry: true, reason: String(status) };
    }
    const body = isEventStream(upstream) ? await this.passStream(attempt, upstream, res) : await this.readWhole(attempt, upstream);
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
    if (body.whole !== undefined) {
      const out = clientResponseHeaders(upstream.headers);
      out['content-length'] = body.whole.length;
      res.writeHead(status, out);
      res.end(body.whole);
    }
    const ok = status >= 200 && status < 300;
    const error = ok ? null : `the upstream answered ${status}`;
    return { retry: false, outcome: { kind: 'answered', status, response: body.response, error, complete: true } };
  }

  /** Reads a whole (non-stream) answer; nothing reaches the client until it is complete, so any failure may be retried. */
  private readWhole(attempt: UpstreamAttempt, upstream: IncomingMessage): Promise<BodyResult> {
    return new Promise((resolve) => {
      const parts: Buffer[] = [];
      upstream.on('data', (chunk: Buffer) => parts.push(chunk));
      upstream.on('end', () => {
        const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        resolve({ sent: 0, whole, response: recordedBody(whole) });
      });
      upstream.on('error', (err) => resolve({ sent: 0, failure: attempt.failureOf(err), response: null }));
    });
  }

  /**
   * Passes a stream through as it arrives, aggregating it on the side. The client's head is
   * written with the first body byte, so a stream that fails before then can still be retried.
   */
  private passStream(attempt: UpstreamAttempt, upstream: IncomingMessage, res: ServerResponse): Promise<BodyResult> {
    const aggregator = new SseAggregator();
    let sent = 0;
    const begin = () => {
      if (!res.headersSent) res.writeHead(upstream.statusCode ?? 200, clientResponseHeaders(upstream.headers));
    };
    return new Promise((resolve) => {
      const onDrain = () => upstream.resume();
      res.on('drain', onDrain);
      upstream.on('data', (chunk: Buffer) => {
        begin();
        sent += chunk.length;
        if (!res.write(chunk)) upstream.pause();
        aggregator.push(chunk);
      });
      upstream.on('end', () => {
        res.off('drain', onDrain);
        begin();
        res.end();
        aggregator.end();
        if (aggregator.skipped > 0) this.log.warn({ skipped: aggregator.skipped }, 'stream events that are not JSON were passed on but left out of the record');
        resolve({ sent, response: aggregator.result() });
      });
      upstream.on('error', (err) => {
        res.off('drain', onDrain);
        aggregator.end();
        resolve({ sent, failure: attempt.failureOf(err), response: aggregator.result() });
      });
    });
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
        sendOpenAiError(res, statusCode, error, timedOut ? 'RMS_TIMEOUT' : 'RMS_UPSTREAM');
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

/** What reading an answer's body gave: bytes sent to the client, what to record, and the failure if it broke. */
interface BodyResult {
  sent: number;
  whole?: Buffer;
  response: unknown;
  failure?: AttemptFailure;
}

function responseOf(outcome: Outcome): unknown {
  return outcome.kind === 'failed' ? null : outcome.response;
}

/** The answer as it goes into the record: its JSON untouched when it is JSON, else its text. */
function recordedBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
    return new RawJson(body);
  } catch {
    return text;
  }
}
