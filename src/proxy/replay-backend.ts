import { ReplayExhaustedError } from '../errors.js';
import type { RouteContext } from '../http/http-service.js';
import { sendJson } from '../http/reply.js';
import type { Logger } from '../log/logger.js';
import { completionToSse } from '../wire/chat-chunks.js';
import { openAiErrorBody } from '../wire/error-bodies.js';
import { isJsonObject } from '../wire/json-object.js';
import { readChatRequest } from './chat-request.js';
import type { ProxyMetrics } from './metrics.js';
import type { ReplayCursor } from './replay-cursor.js';

/**
 * Proxy mode's replay backend (SPEC section 7): no upstream; each call gets the next
 * recorded answer, with the status the client got when it was recorded. Records nothing.
 */
export class ReplayBackend {
  constructor(
    private readonly cursor: ReplayCursor,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Answers one POST /v1/chat/completions from the recording.
   * @throws InvalidJsonError and the body's errors, ReplayExhaustedError when every record was served.
   */
  async handle(ctx: RouteContext): Promise<void> {
    const { res } = ctx;
    const chat = readChatRequest(await ctx.body());
    const entry = this.cursor.next();
    if (entry === undefined) {
      this.metrics.replayed.inc({ result: 'exhausted' });
      throw new ReplayExhaustedError(`the replay file ${this.cursor.file} is exhausted: all ${this.cursor.size} recorded calls were served`);
    }
    this.metrics.replayed.inc({ result: 'served' });
    if (entry.model !== undefined && chat.model !== undefined && entry.model !== chat.model) {
      this.log.warn({ line: entry.line, recorded: entry.model, requested: chat.model }, 'replayed call asks for another model than the recording');
    }
    const ok = entry.statusCode >= 200 && entry.statusCode < 300;
    if (!ok && entry.response === null) {
      // The recorded failure as the client got it then: its status, our error shape.
      const code = entry.statusCode === 504 ? 'RMS_TIMEOUT' : 'RMS_UPSTREAM';
      sendJson(res, entry.statusCode, openAiErrorBody(entry.statusCode, code, entry.error ?? `recorded failure (line ${entry.line})`));
      return;
    }
    if (ok && chat.stream && isJsonObject(entry.response)) {
      res.writeHead(entry.statusCode, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(completionToSse(entry.response));
      return;
    }
    const body = Buffer.from(typeof entry.response === 'string' ? entry.response : JSON.stringify(entry.response));
    const type = isJsonObject(entry.response) || Array.isArray(entry.response) ? 'application/json' : 'text/plain; charset=utf-8';
    res.writeHead(entry.statusCode, { 'content-type': type, 'content-length': body.length });
    res.end(body);
  }
}
