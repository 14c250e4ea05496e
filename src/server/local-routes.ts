/**
 * Local mode (SPEC section 4): a chat call is appended to the log as a request line and
 * answered with the response line of its index, which the runtime writes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AbortedError, BadResponseError, InvalidArgumentError, InvalidJsonError, SessionEndedError, WriteFailedError } from '../errors.js';
import type { ResponseRouter } from '../follower/index.js';
import { isJsonObject } from '../wire/json-object.js';
import { decodeUtf8, parseJsonText, type ParsedJson } from '../protocol/index.js';
import type { AgentWatcher } from './agent-watch.js';
import { sendError } from './http-errors.js';
import type { SessionLog } from './session-log.js';
import { completionToEventStream } from '../wire/chat-chunks.js';
import type { TrajectoryWriter } from './trajectory.js';

export interface LocalRouteDeps {
  sessionLog: SessionLog;
  router: ResponseRouter;
  trajectory: TrajectoryWriter;
  agents: AgentWatcher;
  requestTimeoutMs: number | undefined;
  /** True once the service is stopping: new chat calls are refused. */
  isStopping(): boolean;
}

/** Parses a raw body as strict UTF-8 JSON; returns it with its text. @throws InvalidUtf8Error, InvalidJsonError, InvalidArgumentError (no body). */
function parseBody(body: unknown): { parsed: ParsedJson; text: string } {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new InvalidArgumentError('the request has no body; send a JSON object');
  }
  const text = decodeUtf8(body);
  return { parsed: parseJsonText(text), text };
}

/** Registers POST /v1/chat/completions and POST /v1/agent/watch. */
export function registerLocalRoutes(app: FastifyInstance, deps: LocalRouteDeps): void {
  const { sessionLog, router, trajectory, agents } = deps;

  app.post('/v1/chat/completions', async (request, reply) => {
    if (deps.isStopping()) throw new AbortedError('the service is stopping; retry the request when it is back');
    // After the session ended nothing more is written: the runtime has stopped reading.
    if (router.sessionEnded || sessionLog.ended) throw new SessionEndedError();
    const body = request.body;
    const { parsed, text } = parseBody(body);
    if (!isJsonObject(parsed.value)) {
      throw new InvalidJsonError('the request body must be a JSON object (a chat completion request), not an array or a scalar');
    }
    // Agents mostly send compact JSON already; then the body's own bytes are the payload.
    const compactBytes = parsed.compact === text ? (body as Buffer) : undefined;
    const responseJson = await waitForResponse(request, reply, parsed.compact, compactBytes);
    if (responseJson === undefined) return reply;
    trajectory.record(compactBytes ?? parsed.compact, responseJson);
    if (parsed.value.stream === true) {
      return reply.type('text/event-stream').header('cache-control', 'no-cache').send(completionToEventStream(responseJson));
    }
    return reply.type('application/json').send(responseJson);
  });

  /**
   * Appends the request line and waits for its response. The waiter is registered BEFORE the
   * append, so a fast runtime cannot answer before anyone listens. Returns undefined when
   * the error was already sent.
   */
  async function waitForResponse(
    request: FastifyRequest,
    reply: FastifyReply,
    compact: string,
    compactBytes: Buffer | undefined,
  ): Promise<string | undefined> {
    const index = sessionLog.nextIndex;
    const waiting = router.waitFor(index, { timeoutMs: deps.requestTimeoutMs });
    // The response (not the request) tells that the agent went away: the request's own
    // `close` fires as soon as its body has been read.
    const onClose = (): void => {
      if (!reply.raw.writableEnded) router.cancel(index, new AbortedError('the agent closed the connection before the response arrived'));
    };
    reply.raw.on('close', onClose);
    try {
      sessionLog.appendRequest(compact, index, compactBytes);
      request.log.debug({ index }, 'request appended');
    } catch (err) {
      router.cancel(index, err as Error);
    }
    try {
      return await waiting;
    } catch (err) {
      // Session end, timeout, a departed agent and a stop are expected outcomes; a failed write
      // is not, and a broken response line is the runtime's fault (also counted as a 502).
      if (err instanceof WriteFailedError) request.log.error({ err, index }, 'appending the request line failed');
      else if (err instanceof BadResponseError) request.log.warn({ err, index }, 'the response line is not UTF-8 JSON; answered 502');
      sendError(reply, err);
      return undefined;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  app.post('/v1/agent/watch', async (request, reply) => {
    const { parsed } = parseBody(request.body);
    const pid = isJsonObject(parsed.value) ? parsed.value.pid : undefined;
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) {
      throw new InvalidArgumentError('the body must be {"pid": <positive integer>}: the process id of the agent to watch');
    }
    agents.watch(pid);
    request.log.info({ pid }, 'watching agent');
    return reply.type('application/json').send(`{"status":"watching","pid":${pid}}`);
  });
}
