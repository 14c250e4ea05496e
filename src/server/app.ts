/**
 * The fastify instance both modes share: raw-body parsing, OpenAI-shaped errors, 404s,
 * /health, /metrics, and request metrics. Routes of a mode are added on top.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../config/types.js';
import { openAiErrorBody, sendError, classifyError } from './http-errors.js';
import type { ServiceMetrics } from './metrics.js';

const HEALTHY = '{"status":"healthy"}';

function noSchemas(): never {
  throw new Error('route schemas are not supported by this service: validate the raw body in the handler');
}

/**
 * Returns a fastify app with the shared routes and hooks registered; not yet listening.
 * `isClosing` tells when the service stops: answers sent then close their connection, so
 * that a keep-alive client cannot hold the server open after its last answer.
 */
export function createApp(config: ServiceConfig, metrics: ServiceMetrics, isClosing: () => boolean): FastifyInstance {
  // ROCK_LOGGING_PATH may not exist yet in a fresh sandbox.
  if (config.serviceLogFile) mkdirSync(dirname(config.serviceLogFile), { recursive: true });
  const app = Fastify({
    logger: config.serviceLogFile
      ? { level: config.logLevel, file: config.serviceLogFile }
      : { level: config.logLevel, stream: process.stderr },
    // Two log lines per turn add up over thousands of sandboxes; chat routes log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // No route declares a schema (bodies stay raw bytes). Without these factories fastify
    // loads ajv and fast-json-stringify at construction: about 25 ms of every service start.
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
  });

  // The request bytes are what gets written to the log, so no parser may touch them: every
  // content type arrives as the raw Buffer and the routes decode it strictly.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err, request, reply) => {
    const { status } = classifyError(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, err);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/json')
      .send(
        openAiErrorBody(
          404,
          `no route for ${request.method} ${request.url}; this service answers POST /v1/chat/completions, ` +
            'POST /v1/agent/watch, GET /health and GET /metrics',
          'RMS_NOT_FOUND',
        ),
      ),
  );

  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    if (isClosing()) reply.header('connection', 'close');
    done(null, payload);
  });

  app.get('/health', (_request, reply) => reply.type('application/json').send(HEALTHY));
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}
