import type { FastifyReply, FastifyRequest } from 'fastify';
import { isJsonObject } from '../wire/json-object.js';
import { completionToSse } from '../wire/chat-chunks.js';
import { readChatRequest } from './chat-request.js';
import type { ProxyMetrics } from './metrics.js';
import { sendOpenAiError } from './openai-error.js';
import type { ProxyLog } from './proxy-log.js';
import type { ReplayCursor } from './replay-cursor.js';

/**
 * Proxy mode's replay backend (SPEC section 7): no upstream; each call gets the next
 * recorded answer, with the status the client got when it was recorded. Records nothing.
 */
export class ReplayBackend {
  constructor(
    private readonly cursor: ReplayCursor,
    private readonly metrics: ProxyMetrics,
    private readonly log: ProxyLog,
  ) {}

  /** Answers one POST /v1/chat/completions from the recording. Never throws. */
  handle(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    const chat = readChatRequest(request.body);
    if ('error' in chat) {
      sendOpenAiError(res, 400, chat.error, 'RMS_INVALID_JSON');
      return;
    }
    const entry = this.cursor.next();
    if (entry === undefined) {
      this.metrics.replayed.inc({ result: 'exhausted' });
      const message = `the replay file ${this.cursor.file} is exhausted: all ${this.cursor.size} recorded calls were served`;
      sendOpenAiError(res, 404, message, 'RMS_REPLAY_EXHAUSTED');
      return;
    }
    this.metrics.replayed.inc({ result: 'served' });
    if (entry.model !== undefined && chat.model !== undefined && entry.model !== chat.model) {
      this.log.warn({ line: entry.line, recorded: entry.model, requested: chat.model }, 'replayed call asks for another model than the recording');
    }
    const ok = entry.statusCode >= 200 && entry.statusCode < 300;
    if (!ok && entry.response === null) {
      sendOpenAiError(res, entry.statusCode, entry.error ?? `recorded failure (line ${entry.line})`, entry.statusCode === 504 ? 'RMS_TIMEOUT' : 'RMS_UPSTREAM');
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
