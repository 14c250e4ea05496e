/**
 * An agent call translated to Chat Completions (docs/agent-apis.md, "Proxy mode"): the upstream's
 * chat answer goes back in the agent's API. A stream is translated chunk by chunk as the
 * upstream's `data:` events arrive, so the agent's first byte leaves with the upstream's first
 * chunk and nothing before it (retries stay possible until then); a whole answer becomes the
 * API's final object (or its event stream, when the agent asked to stream and the upstream
 * answered in one piece); an upstream error becomes the API's error body with the same status.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BadResponseError, errorSpec, type ErrorCode } from '../errors.js';
import { errorAnswer, sendErrorAnswer, sendJson } from '../http/reply.js';
import { decodeUtf8 } from '../protocol/index.js';
import { completionToAgentStream, failWith, type AgentApi, type AgentEventStream } from '../wire/agent-api.js';
import type { RecordTruncation } from '../wire/chat-stream-aggregator.js';
import { isJsonObject, parseJsonObject } from '../wire/json-object.js';
import { RawJson } from './recorder.js';
import { SseReader } from '../wire/sse-reader.js';
import { SSE_HEADERS } from '../wire/sse.js';
import { agentStreamRecord, chatStreamRecord } from './stream-records.js';
import { isEventStream, readWhole, recordedBody, type AnswerLimits, type BodyResult, type Delivery, type RecordedBody } from './upstream-body.js';
import { AttemptFailure, type UpstreamAttempt } from './upstream-client.js';

/** What turning one call's answer back into the agent's API needs. */
export interface Translation {
  api: AgentApi<unknown>;
  /** The adapter's state from translating the request (`ChatTranslation.state`). */
  state: unknown;
  /** Whether the agent asked for an event stream. */
  stream: boolean;
}

/** How much of an upstream's error text the agent's error message quotes. */
const QUOTED_ERROR_CHARS = 2000;

/** @returns the delivery of a translated call's answers. */
export function translated(translation: Translation, limits: AnswerLimits): Delivery {
  return {
    async deliver(attempt, upstream, res) {
      const status = upstream.statusCode ?? 502;
      const ok = status >= 200 && status < 300;
      if (ok && translation.stream && isEventStream(upstream)) return translateStream(attempt, upstream, res, translation, limits);
      const body = await readWhole(attempt, upstream, limits.responseLimitBytes);
      if (body.failure !== undefined || body.whole === undefined) return body;
      if (!ok) return { ...body, ...recordedBody(body.whole), ...answerUpstreamError(res, translation.api, status, upstream.headers, body.whole) };
      // An upstream that streams though the agent did not ask to: its chunks are folded into one completion first.
      const { completion, recorded } = isEventStream(upstream) ? foldStream(body.whole, limits) : { completion: body.whole, recorded: recordedBody(body.whole) };
      return { ...body, ...recorded, ...answerCompletion(res, translation, completion, limits) };
    },
  };
}

/** What answering the agent adds to the record. */
type AgentSide = Pick<BodyResult, 'status' | 'error' | 'agentResponse' | 'truncated'>;

/**
 * Answers an upstream error in the agent API's shape, with its status (an upstream status
 * that is no error, a redirect, becomes 502). Retry-After goes along; `x-should-retry: false`
 * tells the agent that a client error is not worth sending again, unless the upstream said otherwise.
 */
function answerUpstreamError(res: ServerResponse, api: AgentApi<unknown>, upstreamStatus: number, headers: IncomingHttpHeaders, body: Buffer): AgentSide {
  const status = upstreamStatus >= 400 && upstreamStatus <= 599 ? upstreamStatus : 502;
  const error = `the upstream answered ${upstreamStatus}`;
  const out: OutgoingHttpHeaders = {};
  if (headers['retry-after'] !== undefined) out['retry-after'] = headers['retry-after'];
  const upstreamSays = headers['x-should-retry'];
  if (upstreamSays !== undefined) out['x-should-retry'] = upstreamSays;
  const retryable = upstreamSays !== undefined ? upstreamSays !== 'false' : status >= 500 || status === 408 || status === 409 || status === 429;
  const text = sendErrorAnswer(res, { status, code: 'RMS_UPSTREAM', message: `${error}: ${upstreamErrorText(body)}`, retryable }, api.errorBody, out);
  return { status, error, agentResponse: new RawJson(Buffer.from(text)) };
}

/** @returns the message of an upstream's error body (OpenAI's, vLLM's, FastAPI's shapes), else its text, shortened. */
export function upstreamErrorText(body: Buffer): string {
  const text = body.toString('utf8').trim();
  const parsed = parseJsonObject(text);
  const error = parsed?.error;
  const message = parsed === undefined ? undefined : isJsonObject(error) ? error.message : error ?? parsed.message ?? parsed.detail;
  const said = typeof message === 'string' && message !== '' ? message : text === '' ? '(no body)' : text;
  return said.length > QUOTED_ERROR_CHARS ? `${said.slice(0, QUOTED_ERROR_CHARS)}…` : said;
}

/** Folds a whole chat stream into the completion it amounts to (at most response_limit of it was read). */
function foldStream(whole: Buffer, limits: AnswerLimits): { completion: Buffer; recorded: RecordedBody } {
  const record = chatStreamRecord(limits.responseLimitBytes);
  record.push(whole);
  record.end();
  const response = record.result();
  return { completion: Buffer.from(JSON.stringify(response)), recorded: { response, usage: record.usage, truncated: record.truncated } };
}

/** Answers the agent with the upstream's chat completion in its API: the final object, or its event stream. */
function answerCompletion(res: ServerResponse, translation: Translation, completion: Buffer, limits: AnswerLimits): AgentSide {
  const { api, state, stream } = translation;
  let out: string;
  try {
    const text = decodeUtf8(completion);
    out = stream ? completionToAgentStream(api.createStream(state), text) : api.fromChat(text, state);
  } catch (err) {
    const bad = cannotTranslate(api, err);
    const text = sendErrorAnswer(res, errorAnswer(bad), api.errorBody);
    return { status: bad.httpStatus, error: bad.message, agentResponse: new RawJson(Buffer.from(text)) };
  }
  if (!stream) {
    sendJson(res, 200, out);
    return { agentResponse: new RawJson(Buffer.from(out)) };
  }
  res.writeHead(200, SSE_HEADERS);
  res.end(out);
  const record = agentStreamRecord(api.name, limits.recordMaxBytes);
  record.push(out);
  record.end();
  return { agentResponse: record.result(), truncated: record.truncated, ...(record.streamError === undefined ? {} : { error: `the answer ended with an error event: ${record.streamError}` }) };
}

function cannotTranslate(api: AgentApi<unknown>, err: unknown): BadResponseError {
  return new BadResponseError(0, `the upstream's answer cannot become a ${api.name} answer: ${(err as Error).message}`, { cause: err });
}

/** An attempt's failure as the agent's in-stream error: its status (the error table's) and code. */
function streamFailure(failure: AttemptFailure): [number, ErrorCode] {
  const code: ErrorCode = failure.kind === 'timeout' ? 'RMS_TIMEOUT' : failure.kind === 'too_large' ? 'RMS_RESPONSE_TOO_LARGE' : 'RMS_UPSTREAM';
  return [errorSpec(code).status, code];
}

/**
 * Translates an upstream chat stream as it arrives. The record gets both sides: the chunks as
 * the upstream sent them (folded into a chat.completion) and the events as the agent got them
 * (folded into the API's final object), each within record_max_bytes. The translators hold the
 * answer (Responses repeats every item in its closing event; a Messages tool input is checked
 * whole), so a translated stream is bounded like a whole answer: past response_limit the call
 * ends. A failure after the first byte is told in the stream in the API's own form, which then ends.
 */
function translateStream(attempt: UpstreamAttempt, upstream: IncomingMessage, res: ServerResponse, translation: Translation, limits: AnswerLimits): Promise<BodyResult> {
  const { api } = translation;
  const events: AgentEventStream = api.createStream(translation.state);
  const reader = new SseReader(limits.responseLimitBytes);
  const chat = chatStreamRecord(limits.recordMaxBytes);
  const agent = agentStreamRecord(api.name, limits.recordMaxBytes);
  let sent = 0;
  let received = 0;
  const write = (text: string): void => {
    if (text === '' || res.destroyed || res.writableEnded) return;
    if (!res.headersSent) res.writeHead(upstream.statusCode ?? 200, SSE_HEADERS);
    sent += text.length;
    agent.push(text);
    if (!res.write(text)) upstream.pause();
  };
  /** The adapters turn a bad answer into an error event; anything they throw is a bad answer too, never an uncaught exception. */
  const translate = (produce: () => string): void => {
    let text: string;
    try {
      text = produce();
    } catch (err) {
      text = failWith(events, cannotTranslate(api, err));
    }
    write(text);
  };
  return new Promise((resolve) => {
    let settled = false;
    const onDrain = () => upstream.resume();
    res.on('drain', onDrain);
    const settle = (failure?: AttemptFailure): void => {
      if (settled) return;
      settled = true;
      res.off('drain', onDrain);
      let ended = false;
      if (failure === undefined || sent > 0) {
        if (failure !== undefined) translate(() => events.fail(...streamFailure(failure), failure.message));
        if (!res.destroyed && !res.writableEnded) {
          if (!res.headersSent) res.writeHead(upstream.statusCode ?? 200, SSE_HEADERS);
          res.end();
        }
        ended = true;
      }
      chat.end();
      agent.end();
      const result: BodyResult = {
        sent,
        failure,
        ended,
        response: chat.result(),
        usage: chat.usage,
        skipped: chat.skipped,
        agentResponse: agent.result(),
        truncated: bothCuts(chat.truncated, agent.truncated),
      };
      if (agent.streamError !== undefined) result.error = `the answer ended with an error event: ${agent.streamError}`;
      resolve(result);
    };
    upstream.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limits.responseLimitBytes) {
        const failure = new AttemptFailure(
          'too_large',
          `the upstream's stream passed response_limit (${limits.responseLimitBytes} bytes), which bounds a translated answer as it bounds a whole one; the proxy stopped reading it there`,
          { permanent: true },
        );
        attempt.abort(failure);
        settle(failure);
        return;
      }
      chat.push(chunk);
      // One upstream read often holds several events: their translations leave in one write.
      res.cork();
      for (const event of reader.push(chunk)) if (event.data !== '') translate(() => events.push(event.data));
      res.uncork();
      if (events.ended) {
        // An error chunk ended the agent's stream: the rest of the upstream's is not wanted.
        attempt.abort();
        settle();
      }
    });
    upstream.on('end', () => {
      if (settled) return;
      for (const event of reader.end()) if (event.data !== '') translate(() => events.push(event.data));
      translate(() => events.end());
      settle();
    });
    upstream.on('error', (err) => settle(attempt.failureOf(err)));
  });
}

function bothCuts(chat: RecordTruncation | undefined, agent: RecordTruncation | undefined): RecordTruncation | undefined {
  if (chat === undefined || agent === undefined) return chat ?? agent;
  return { ...chat, reason: `${chat.reason}; agent_response: ${agent.reason}` };
}
