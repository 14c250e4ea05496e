import type { ServerResponse } from 'node:http';
import { BadResponseError, ERROR_CODES, errorSpec, ReplayExhaustedError, type ErrorCode } from '../errors.js';
import type { RouteContext } from '../http/http-service.js';
import { sendError, sendErrorAnswer, sendJson } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import { completionToAgentStream, type AgentApi } from '../wire/agent-api.js';
import { completionToSse } from '../wire/chat-chunks.js';
import type { ErrorBodyShape } from '../wire/error-bodies.js';
import { isJsonObject } from '../wire/json-object.js';
import { ResponsesStore } from '../wire/responses-store.js';
import { SSE_HEADERS } from '../wire/sse.js';
import { readJsonRequest, type JsonRequest } from './json-request.js';
import type { ProxyMetrics } from './metrics.js';
import type { SeenModels } from './models.js';
import type { ReplayCursor, ReplayEntry } from './replay-cursor.js';
import { upstreamErrorText } from './translated-answer.js';


/**
 * A replay sends nothing anywhere, so the conversation a `previous_response_id` continues is not
 * needed to answer it: every id is taken as known, with no history, and a chain the recording
 * made replays whatever its ids.
 */
export class ReplayResponsesStore extends ResponsesStore {
  override history(): string {
    return '[]';
  }
}

/**
 * Proxy mode's replay backend (docs/proxy.md): no upstream; each call, whatever its route,
 * gets the next recorded answer, with the status the client got when it was recorded.
 * Records nothing.
 */
export class ReplayBackend {
  constructor(
    private readonly cursor: ReplayCursor,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
    private readonly models: SeenModels,
  ) {}

  /**
   * Answers one POST /v1/chat/completions from the recording.
   * @throws InvalidJsonError and the body's errors, ReplayExhaustedError when every record was served.
   */
  async handle(ctx: RouteContext): Promise<void> {
    const { res } = ctx;
    const request = readJsonRequest(await ctx.body());
    const entry = this.next(request);
    const ok = entry.statusCode >= 200 && entry.statusCode < 300;
    if (!ok && entry.response === null) {
      sendRecordedFailure(res, entry, ctx.shape);
      return;
    }
    if (ok && request.stream && isJsonObject(entry.response)) {
      res.writeHead(entry.statusCode, SSE_HEADERS);
      res.end(completionToSse(entry.response));
      return;
    }
    const body = Buffer.from(textOf(entry.response));
    const type = isJsonObject(entry.response) || Array.isArray(entry.response) ? 'application/json' : 'text/plain; charset=utf-8';
    res.writeHead(entry.statusCode, { 'content-type': type, 'content-length': body.length });
    res.end(body);
  }

  /**
   * Answers one agent API call from the recording, in `api`: the answer the agent got when it
   * was recorded (`agent_response`, or the response of a call passed through), else the
   * recorded chat completion translated; as a stream when the call asks for one.
   * @throws InvalidJsonError and the body's errors (and toChat's, when the answer is translated), ReplayExhaustedError.
   */
  async handleAgent(ctx: RouteContext, api: AgentApi<unknown>): Promise<void> {
    const { res } = ctx;
    const request = readJsonRequest(await ctx.body(), `a ${api.name} request`);
    const entry = this.next(request);
    const own = entry.endpoint === api.endpoint ? ownAnswer(entry) : undefined;
    const ok = entry.statusCode >= 200 && entry.statusCode < 300;
    if (!ok && own === undefined && entry.response === null) {
      sendRecordedFailure(res, entry, ctx.shape);
      return;
    }
    if (!ok) {
      // The error body the agent got (its API's shape), or the upstream's, told in the agent API's shape.
      // The recording keeps no headers: neither answer says whether a retry may help.
      if (own !== undefined) sendJson(res, entry.statusCode, JSON.stringify(own));
      else {
        const message = `${entry.error ?? 'recorded failure'}: ${upstreamErrorText(Buffer.from(textOf(entry.response)))}`;
        sendErrorAnswer(res, { status: entry.statusCode, code: 'RMS_UPSTREAM', message, retryable: true }, api.errorBody);
      }
      return;
    }
    let body: string;
    try {
      body = own !== undefined ? ownBody(api, own, request.stream) : translatedBody(api, request, entry);
    } catch (err) {
      sendError(res, new BadResponseError(0, `the recorded answer (line ${entry.line} of ${this.cursor.file}) cannot become a ${api.name} answer: ${(err as Error).message}`, { cause: err }), ctx.shape);
      return;
    }
    if (request.stream) {
      res.writeHead(entry.statusCode, SSE_HEADERS);
      res.end(body);
    } else sendJson(res, entry.statusCode, body);
  }

  /** @throws ReplayExhaustedError when every record was served. */
  private next(request: JsonRequest): ReplayEntry {
    this.models.add(request.model);
    const entry = this.cursor.next();
    if (entry === undefined) {
      this.metrics.replayed.inc({ result: 'exhausted' });
      throw new ReplayExhaustedError(`the replay file ${this.cursor.file} is exhausted: all ${this.cursor.size} recorded calls were served`);
    }
    this.metrics.replayed.inc({ result: 'served' });
    if (entry.model !== undefined && request.model !== undefined && entry.model !== request.model) {
      this.log.warn({ line: entry.line, recorded: entry.model, requested: request.model }, 'replayed call asks for another model than the recording');
    }
    return entry;
  }
}

/** @returns what the agent got in its own API when the call was recorded, if the record has it. */
function ownAnswer(entry: ReplayEntry): unknown {
  if (entry.agentResponse !== undefined) return entry.agentResponse;
  return entry.passedThrough && entry.response !== null ? entry.response : undefined;
}

/** @throws BadResponseError when a stream is asked for and the recorded answer is not the API's final object. */
function ownBody(api: AgentApi<unknown>, answer: unknown, stream: boolean): string {
  const text = textOf(answer);
  return stream ? api.finalToStream(text) : text;
}

/** A recorded value as the text to answer with: a string as it is, anything else as JSON. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The recorded chat completion in the agent's API, shaped by the call's own request (its
 * tools' names, its model, whether it asked for a reasoning summary).
 * @throws the adapter's errors: toChat's for the request, BadResponseError for the completion.
 */
function translatedBody(api: AgentApi<unknown>, request: JsonRequest, entry: ReplayEntry): string {
  const translation = api.toChat(request.text);
  const completion = textOf(entry.response);
  return request.stream ? completionToAgentStream(api.createStream(translation.state), completion) : api.fromChat(completion, translation.state);
}

/** Answers a recorded failure the proxy answered itself, with the status and code the client got then. */
function sendRecordedFailure(res: ServerResponse, entry: ReplayEntry, shape: ErrorBodyShape): void {
  const code: ErrorCode =
    entry.errorCode !== undefined && Object.hasOwn(ERROR_CODES, entry.errorCode) ? (entry.errorCode as ErrorCode) : entry.statusCode === 504 ? 'RMS_TIMEOUT' : 'RMS_UPSTREAM';
  const message = entry.error ?? `recorded failure (line ${entry.line})`;
  sendErrorAnswer(res, { status: entry.statusCode, code, message, retryable: errorSpec(code).retry }, shape);
}
