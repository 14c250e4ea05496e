import type { ServerResponse } from 'node:http';
import { openAiErrorBody } from '../server/http-errors.js';

/**
 * Answers a hijacked `res` with the service's OpenAI-shaped error body (the type follows
 * the status, as for every other route); does nothing when the answer has already begun.
 */
export function sendOpenAiError(res: ServerResponse, status: number, message: string, code: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(openAiErrorBody(status, message, code));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}
