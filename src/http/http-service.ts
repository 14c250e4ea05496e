/**
 * The service's HTTP layer on Node's own `node:http`: a router, bodies read within bounds,
 * one error writer for every route (in the shape of the API the route speaks), a request id
 * on every answer, parser errors answered in the same shape, and a stop that lets answers
 * under way finish for a grace period. fastify cost ~70 ms of every start and ~17 MB of RSS
 * here for a handful of routes (docs/benchmarks.md).
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BadHttpRequestError, HeadersTooLargeError, MethodNotAllowedError, RouteNotFoundError, BodyTimeoutError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { openAiErrorBody, type ErrorBodyShape } from '../wire/error-bodies.js';
import { closeLingering } from './lingering-close.js';
import { errorAnswer, retryHeaders, sendError } from './reply.js';
import { BodyBudget, readRequestBody } from './request-body.js';
import { Router, type Method } from './router.js';

/** What a route handler gets for one request. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Also sent as `x-request-id` (and `request-id` on Anthropic routes). */
  readonly requestId: string;
  /** The `{param}` segment of a route such as `/v1/models/{id}`. */
  readonly param: string | undefined;
  /** The error body shape of the API this route speaks. */
  readonly shape: ErrorBodyShape;
  /** Reads the whole body within the service's bounds. @throws BodyTooLargeError, BodyTimeoutError, BusyError, BadHttpRequestError. */
  body(): Promise<Buffer>;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

export interface RouteOptions {
  /** Default: OpenAI's. */
  shape?: ErrorBodyShape;
  /** Extra names for the request id header (Anthropic's clients read `request-id`). */
  requestIdHeaders?: readonly string[];
}

export interface HttpServiceOptions {
  log: Logger;
  /** Largest request body, bytes. */
  bodyLimitBytes: number;
  /** Longest time a request body may take to arrive. */
  bodyTimeoutMs: number;
  /** Bytes all bodies in flight may hold together. */
  bodyBudgetBytes: number;
  /** Called once per answered (or abandoned: status 499) request. */
  observe(route: string, status: number, seconds: number): void;
}

interface RouteEntry {
  handler: RouteHandler;
  shape: ErrorBodyShape;
  idHeaders: readonly string[];
}

/**
 * Request ids: a random prefix per process and a counter, 32 hex digits in all, unique within
 * a service's life and, in practice, across services; no crypto on the start path or per call.
 */
const ID_PREFIX = Array.from({ length: 20 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
let requestCount = 0;
const nextRequestId = (): string => `req_${ID_PREFIX}${(++requestCount).toString(16).padStart(12, '0')}`;

/** nginx's "client closed request": the client left before its answer was complete. */
const CLIENT_GONE = 499;
const REQUEST_ID = ['x-request-id'] as const;

export class HttpService {
  readonly server: Server;
  readonly #router = new Router<RouteEntry>();
  readonly #options: HttpServiceOptions;
  readonly #budget: BodyBudget;
  readonly #active = new Set<ServerResponse>();
  #closing = false;

  constructor(options: HttpServiceOptions) {
    this.#options = options;
    this.#budget = new BodyBudget(options.bodyBudgetBytes);
    // Node's own request timeout would answer 408 in its own shape; our body timer answers
    // first, and the headers keep Node's bound (60 s) against slow-header connections.
    this.server = createServer({ requestTimeout: 0 }, (req, res) => this.#dispatch(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.#onClientError(err, socket));
  }

  /** Whether close() was called: new answers close their connection. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Adds a route. @throws TypeError for a route declared twice. */
  route(method: Method, path: string, handler: RouteHandler, options: RouteOptions = {}): this {
    this.#router.add(method, path, {
      handler,
      shape: options.shape ?? openAiErrorBody,
      idHeaders: options.requestIdHeaders ? [...REQUEST_ID, ...options.requestIdHeaders] : REQUEST_ID,
    });
    return this;
  }

  /**
   * Listens on `host`:`port` (0 picks a free port).
   * @returns the address it listens on.
   * @throws the listen error (EADDRINUSE, EACCES…).
   */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** From now on every answer closes its connection (a keep-alive client must not hold a stopping server open). */
  markClosing(): void {
    this.#closing = true;
    for (const res of this.#active) if (!res.headersSent) res.shouldKeepAlive = false;
  }

  /**
   * Stops accepting; answers under way get `graceMs` to finish (each then closes its
   * connection), after which every connection is cut. Idempotent.
   */
  async close(graceMs: number): Promise<void> {
    this.markClosing();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(force);
    }
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const lookup = this.#router.find(req.method ?? 'GET', req.url ?? '/');
    const entry = lookup !== undefined && 'found' in lookup ? lookup.found.handler : undefined;
    const requestId = nextRequestId();
    for (const name of entry?.idHeaders ?? REQUEST_ID) res.setHeader(name, requestId);
    if (this.#closing) res.shouldKeepAlive = false;
    this.#active.add(res);
    const route = lookup !== undefined && 'found' in lookup ? lookup.found.route : 'unmatched';
    res.once('close', () => {
      this.#active.delete(res);
      this.#options.observe(route, res.writableFinished ? res.statusCode : CLIENT_GONE, (performance.now() - started) / 1000);
      // A keep-alive connection that finished its answer after close() began would idle on.
      if (this.#closing) setImmediate(() => this.server.closeIdleConnections());
    });
    const shape = entry?.shape ?? openAiErrorBody;
    if (lookup === undefined || 'allowed' in lookup) {
      this.#answerUnrouted(req, res, lookup?.allowed);
      return;
    }
    const ctx: RouteContext = {
      req,
      res,
      requestId,
      param: lookup.found.param,
      shape,
      body: () =>
        readRequestBody(req, {
          maxBytes: this.#options.bodyLimitBytes,
          timeoutMs: this.#options.bodyTimeoutMs,
          budget: this.#budget,
        }),
    };
    let result: void | Promise<void>;
    try {
      result = entry!.handler(ctx);
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.#fail(ctx, err));
  }

  #answerUnrouted(req: IncomingMessage, res: ServerResponse, allowed: readonly Method[] | undefined): void {
    const known = `this service answers ${this.#router.describe().join(', ')}`;
    const err =
      allowed === undefined
        ? new RouteNotFoundError(`no route for ${req.method} ${req.url}; ${known}`)
        : new MethodNotAllowedError(`${req.url} does not take ${req.method}; it takes ${allowed.join(', ')}`);
    if (!req.complete) closeAfterAnswer(req, res);
    sendError(res, err, openAiErrorBody, allowed === undefined ? {} : { allow: allowed.join(', ') });
  }

  /** Answers a handler's error in its route's shape; a begun answer is cut instead. */
  #fail(ctx: RouteContext, err: unknown): void {
    const { req, res } = ctx;
    const answer = errorAnswer(err);
    if (answer.code === 'RMS_INTERNAL') this.#options.log.error({ err, requestId: ctx.requestId, url: req.url }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!req.complete || err instanceof BodyTimeoutError) closeAfterAnswer(req, res);
    sendError(res, err, ctx.shape);
  }

  /** Errors of Node's HTTP parser (bad framing 400, headers too large 431), answered in the OpenAI shape. */
  #onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const error = tooLarge
      ? new HeadersTooLargeError('the request headers are larger than the service accepts (16 KiB); send fewer or shorter headers')
      : new BadHttpRequestError(`the HTTP request is malformed (${err.code ?? err.message}); send a valid HTTP/1.1 request`);
    const answer = errorAnswer(error);
    const body = Buffer.from(openAiErrorBody(answer.status, answer.code, answer.message), 'utf8');
    const headers: OutgoingHttpHeaders = retryHeaders(answer, { 'content-type': 'application/json', 'content-length': body.length, connection: 'close' });
    const head = Object.entries(headers)
      .map(([k, v]) => `${k}: ${String(v)}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${answer.status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n${head}\r\n${body.toString('utf8')}`);
  }
}

/**
 * Ends the connection after this answer: the rest of an unread body would be taken for the next
 * request on it. The close lingers, so that a client still sending gets the answer.
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  if (!req.complete) closeLingering(req);
}
