/**
 * One agent call in local mode (docs/http.md): the request becomes a request line (or
 * re-attaches to the orphaned turn it repeats), the call waits for the runtime's response of
 * that index, and the response goes back in the agent's API. A streamed call gets its headers
 * at once and a heartbeat while it waits; an error after the headers goes into the stream in
 * the API's own form.
 */
import type { ServerResponse } from 'node:http';
import { AbortedError, BadResponseError, InvalidArgumentError, ModelServiceError, SessionEndedError, TimeoutError, WriteFailedError } from '../errors.js';
import type { ResponseRouter } from '../follower/index.js';
import type { RouteContext } from '../http/http-service.js';
import { errorAnswer, sendError, sendJson } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import { decodeUtf8 } from '../protocol/index.js';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../time/long-timeout.js';
import type { AgentApi } from '../wire/agent-api.js';
import { SSE_HEADERS } from '../wire/sse.js';
import { agentAnswer, openCallStream, openExchange, type AgentApiMode, type CallStream, type Exchange } from './exchange.js';
import type { SessionLog } from './session-log.js';
import type { TrajectoryWriter } from './trajectory.js';
import type { Turn, TurnAnswer, Turns } from './turns.js';

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
  mode: AgentApiMode;
  /** How long a call waits for its response; undefined: without limit. */
  requestTimeoutMs: number | undefined;
  /** How often a streamed call that waits gets a heartbeat. */
  heartbeatMs: number;
  calls: WaitingCalls;
  /** Every model an agent named (GET /v1/models lists them). */
  models: Set<string>;
  /** Whether the service is closing (HttpService.closing): a new call is refused. */
  isClosing(): boolean;
}

/** The agent closed its connection: not an answer, nobody to send it to. */
class AgentGone extends Error {}

/**
 * Serves one agent call on `ctx` in `api`. Errors before the request line is written (bad
 * body, session ended, stopping) are thrown for the HTTP layer to answer in the route's shape.
 */
export async function serveLocalCall(ctx: RouteContext, api: AgentApi<unknown>, deps: LocalCallDeps): Promise<void> {
  if (deps.isClosing()) throw new AbortedError('the service is stopping; retry the request when it is back');
  const body = await ctx.body();
  if (body.length === 0) throw new InvalidArgumentError('the request has no body; send a JSON object');
  const exchange = openExchange(api, deps.mode, decodeUtf8(body), body);
  if (exchange.model !== '') deps.models.add(exchange.model);
  let turn = deps.turns.reattach(exchange);
  if (turn !== undefined) {
    deps.log.info({ index: turn.index, requestId: ctx.requestId }, 'a retried call re-attached to its turn');
  } else {
    // After the session ended nothing more is written: the runtime has stopped reading.
    if (deps.router.sessionEnded || deps.sessionLog.ended) throw new SessionEndedError();
    turn = openTurn(ctx, exchange, body.length, deps);
  }
  await deliver(ctx, turn, exchange.stream, deps);
}

function openTurn(ctx: RouteContext, exchange: Exchange, bytes: number, deps: LocalCallDeps): Turn {
  const index = deps.sessionLog.nextIndex;
  const { api } = exchange;
  const endpoint = api.endpoint === '/v1/chat/completions' ? undefined : api.endpoint;
  const appendedAt = performance.now();
  const turn = deps.turns.open(
    index,
    exchange,
    (response) => agentAnswer(exchange, response, index),
    (answer) => {
      deps.log.info({ index, ms: Math.round(performance.now() - appendedAt) }, 'response arrived');
      recordTurn(deps.trajectory, exchange, answer);
    },
  );
  try {
    deps.sessionLog.appendRequest(exchange.payload, index, endpoint);
  } catch (err) {
    deps.router.cancel(index, err as Error);
    deps.turns.release(turn, true);
    if (err instanceof WriteFailedError) deps.log.error({ err, index }, 'appending the request line failed');
    throw err;
  }
  const fields: Record<string, unknown> = { index, endpoint: api.endpoint, bytes, stream: exchange.stream, requestId: ctx.requestId };
  if (exchange.dropped.length > 0) fields.dropped = exchange.dropped;
  deps.log.info(fields, exchange.dropped.length > 0 ? 'request appended; what Chat Completions cannot express was left out' : 'request appended');
  return turn;
}

/** The trajectory keeps the pair the runtime saw and, for an agent API, what the agent sent and got. */
function recordTurn(trajectory: TrajectoryWriter, exchange: Exchange, answer: TurnAnswer): void {
  if (exchange.agentRequest === undefined) {
    trajectory.record(exchange.payload, answer.response);
    return;
  }
  trajectory.record(exchange.payload, answer.response, {
    endpoint: exchange.api.endpoint,
    agentRequest: exchange.agentRequest,
    agentResponse: 'body' in answer.agent ? answer.agent.body : undefined,
    dropped: exchange.dropped,
  });
}

async function deliver(ctx: RouteContext, turn: Turn, stream: boolean, deps: LocalCallDeps): Promise<void> {
  const { res } = ctx;
  let events: CallStream | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  if (stream) {
    events = openCallStream(turn.exchange, turn.index);
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    const opening = events.start();
    if (opening !== '') res.write(opening);
    heartbeat = setInterval(() => {
      if (!res.destroyed) res.write(events!.heartbeat());
    }, deps.heartbeatMs);
  }
  const call = { since: Date.now() };
  deps.calls.waiting.add(call);
  let answer: TurnAnswer;
  try {
    answer = await waitForAnswer(turn, res, deps.requestTimeoutMs);
  } catch (err) {
    deps.turns.release(turn, false);
    if (err instanceof AgentGone) {
      deps.calls.abandoned++;
      deps.log.info({ index: turn.index, requestId: ctx.requestId }, 'the agent left before its answer; the turn waits for a retry');
      return;
    }
    if (err instanceof BadResponseError) deps.log.warn({ err, index: turn.index }, "the runtime's response cannot answer the call; answered 502");
    else if (err instanceof TimeoutError) deps.log.info({ index: turn.index }, 'no response within the request timeout; answered 504');
    fail(ctx, events, err, deps.log);
    return;
  } finally {
    clearInterval(heartbeat);
    deps.calls.waiting.delete(call);
  }
  let body: string;
  try {
    if ('error' in answer.agent) throw answer.agent.error;
    body = events === undefined ? answer.agent.body : events.answer(answer.response);
  } catch (err) {
    deps.turns.release(turn, true);
    deps.log.warn({ err, index: turn.index }, "the runtime's response cannot become the agent's answer; answered 502");
    fail(ctx, events, err, deps.log);
    return;
  }
  if (res.destroyed) {
    deps.turns.release(turn, false);
    return;
  }
  if (events === undefined) sendJson(res, 200, body);
  else res.end(body);
  deps.turns.release(turn, true);
  deps.log.info({ index: turn.index, requestId: ctx.requestId }, 'response delivered');
}

/** Answers a call that failed after its request line was written: in its stream when the headers went out. */
function fail(ctx: RouteContext, events: CallStream | undefined, err: unknown, log: Logger): void {
  if (!(err instanceof ModelServiceError)) log.error({ err, requestId: ctx.requestId }, 'request failed');
  if (events === undefined) {
    sendError(ctx.res, err, ctx.shape);
    return;
  }
  const { status, code, message } = errorAnswer(err);
  if (!ctx.res.destroyed) ctx.res.end(events.fail(status, code, message));
}

/**
 * Waits for the turn's answer, for this call only: its own deadline, its own connection.
 * @throws AgentGone, TimeoutError, and what the turn fails with (SessionEndedError, AbortedError, BadResponseError).
 */
function waitForAnswer(turn: Turn, res: ServerResponse, timeoutMs: number | undefined): Promise<TurnAnswer> {
  if (turn.answered !== undefined) return Promise.resolve(turn.answered);
  return new Promise<TurnAnswer>((resolve, reject) => {
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
    turn.answer.then(
      (answer) => {
        settle();
        resolve(answer);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
  });
}
