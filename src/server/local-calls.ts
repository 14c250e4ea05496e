/**
 * One agent call in local mode (SPEC section 4): the request becomes a request line (or
 * re-attaches to the orphaned turn whose bytes it repeats), the call waits for the runtime's
 * response of that index, and the response goes back in the agent's API. A streamed call gets
 * its headers at once and a heartbeat while it waits; an error after the headers goes into
 * the stream in the API's own form.
 */
import type { ServerResponse } from 'node:http';
import { AbortedError, BadResponseError, InvalidArgumentError, SessionEndedError, TimeoutError, WriteFailedError } from '../errors.js';
import type { ResponseRouter } from '../follower/index.js';
import type { RouteContext } from '../http/http-service.js';
import { errorAnswer, sendJson } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import { decodeUtf8, parseJsonText } from '../protocol/index.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../time/long-timeout.js';
import type { LocalApi, LogRequest } from './agent-api.js';
import { CHAT_COMPLETIONS_ENDPOINT } from './chat-api.js';
import type { SessionLog } from './session-log.js';
import type { TrajectoryWriter } from './trajectory.js';
import type { Turn, Turns } from './turns.js';

/** Calls waiting now (for the metrics: how many, and since when). */
export interface WaitingCalls {
  readonly waiting: Set<{ readonly since: number }>;
  /** Calls whose agent left before the answer. */
  abandoned: number;
}

export interface LocalCallDeps {
  sessionLog: SessionLog;
  router: ResponseRouter;
  turns: Turns;
  trajectory: TrajectoryWriter;
  log: Logger;
  /** How long a call waits for its response; undefined: without limit. */
  requestTimeoutMs: number | undefined;
  /** How often a streamed call that waits gets a heartbeat. */
  heartbeatMs: number;
  calls: WaitingCalls;
  /** Every model an agent named (GET /v1/models lists them). */
  models: Set<string>;
  isStopping(): boolean;
}

/** The agent closed its connection: not an answer, nobody to send it to. */
class AgentGone extends Error {}

/**
 * Serves one agent call on `ctx` in `api`. Errors before the request line is written (bad
 * body, session ended, stopping) are thrown for the HTTP layer to answer in the route's shape.
 */
export async function serveLocalCall(ctx: RouteContext, api: LocalApi, deps: LocalCallDeps): Promise<void> {
  if (deps.isStopping()) throw new AbortedError('the service is stopping; retry the request when it is back');
  const body = await ctx.body();
  if (body.length === 0) throw new InvalidArgumentError('the request has no body; send a JSON object');
  const text = decodeUtf8(body);
  const request = api.toLog(parseJsonText(text), text, body);
  if (request.model !== undefined) deps.models.add(request.model);
  let turn = deps.turns.reattach(body);
  if (turn !== undefined) {
    deps.log.info({ index: turn.index, requestId: ctx.requestId }, 'a retried call re-attached to its turn');
  } else {
    // After the session ended nothing more is written: the runtime has stopped reading.
    if (deps.router.sessionEnded || deps.sessionLog.ended) throw new SessionEndedError();
    turn = openTurn(ctx, api, request, body, deps);
  }
  await deliver(ctx, api, turn, request, deps);
}

function openTurn(ctx: RouteContext, api: LocalApi, request: LogRequest, body: Buffer, deps: LocalCallDeps): Turn {
  const index = deps.sessionLog.nextIndex;
  const endpoint = api.endpoint === CHAT_COMPLETIONS_ENDPOINT ? undefined : api.endpoint;
  const appendedAt = performance.now();
  const turn = deps.turns.open(index, api.endpoint, body, (response) => {
    deps.trajectory.record(request.payload, response);
    deps.log.info({ index, ms: Math.round(performance.now() - appendedAt) }, 'response arrived');
  });
  try {
    deps.sessionLog.appendRequest(request.payload, index, endpoint);
  } catch (err) {
    deps.router.cancel(index, err as Error);
    deps.turns.release(turn, true);
    if (err instanceof WriteFailedError) deps.log.error({ err, index }, 'appending the request line failed');
    throw err;
  }
  deps.log.info({ index, endpoint: api.endpoint, bytes: body.length, stream: request.stream, requestId: ctx.requestId }, 'request appended');
  return turn;
}

async function deliver(ctx: RouteContext, api: LocalApi, turn: Turn, request: LogRequest, deps: LocalCallDeps): Promise<void> {
  const { res } = ctx;
  let heartbeat: NodeJS.Timeout | undefined;
  if (request.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    heartbeat = setInterval(() => {
      if (!res.destroyed) res.write(api.heartbeat);
    }, deps.heartbeatMs);
  }
  const call = { since: Date.now() };
  deps.calls.waiting.add(call);
  let response: string;
  try {
    response = await waitForAnswer(turn, res, deps.requestTimeoutMs);
  } catch (err) {
    deps.turns.release(turn, false);
    if (err instanceof AgentGone) {
      deps.calls.abandoned++;
      deps.log.info({ index: turn.index, requestId: ctx.requestId }, 'the agent left before its answer; the turn waits for a retry');
      return;
    }
    if (err instanceof BadResponseError) deps.log.warn({ err, index: turn.index }, "the runtime's response cannot answer the call; answered 502");
    else if (err instanceof TimeoutError) deps.log.info({ index: turn.index }, 'no response within the request timeout; answered 504');
    failCall(ctx, api, request, err);
    return;
  } finally {
    clearInterval(heartbeat);
    deps.calls.waiting.delete(call);
  }
  let answer: string;
  try {
    answer = request.stream ? api.answerEvents(response, request.state) : api.answer(response, request.state);
  } catch (err) {
    deps.turns.release(turn, true);
    deps.log.warn({ err, index: turn.index }, "the runtime's response cannot become the agent's answer; answered 502");
    failCall(ctx, api, request, err);
    return;
  }
  const delivered = !res.destroyed;
  if (!delivered) {
    deps.turns.release(turn, false);
    return;
  }
  if (request.stream) res.end(answer);
  else sendJson(res, 200, answer);
  deps.turns.release(turn, true);
  deps.log.info({ index: turn.index, requestId: ctx.requestId }, 'response delivered');
}


/** Answers a call that failed after its request line was written. */
function failCall(ctx: RouteContext, api: LocalApi, request: LogRequest, err: unknown): void {
  if (!request.stream) throw err;
  if (!ctx.res.destroyed) ctx.res.end(api.streamError(errorAnswer(err)));
}

/**
 * Waits for the turn's response, for this call only: its own deadline, its own connection.
 * @throws AgentGone, TimeoutError, and what the turn fails with (SessionEndedError, AbortedError, BadResponseError).
 */
function waitForAnswer(turn: Turn, res: ServerResponse, timeoutMs: number | undefined): Promise<string> {
  if (turn.answered !== undefined) return Promise.resolve(turn.answered);
  return new Promise<string>((resolve, reject) => {
    let timer: LongTimeout | undefined;
    const settle = (): void => {
      clearLongTimeout(timer);
      res.off('close', onClose);
    };
    // The response (not the request) tells that the agent went away: the request's own
    // `close` fires as soon as its body has been read.
    const onClose = (): void => {
      settle();
      reject(new AgentGone());
    };
    res.once('close', onClose);
    if (timeoutMs !== undefined) {
      timer = setLongTimeout(() => {
        settle();
        reject(
          new TimeoutError(
            `no response with index ${turn.index} arrived within ${timeoutMs / 1000} s; ` +
              'the runtime must answer with anti-call-llm, or raise the request timeout',
            timeoutMs,
          ),
        );
      }, timeoutMs);
    }
    turn.response.then(
      (response) => {
        settle();
        resolve(response);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
  });
}

