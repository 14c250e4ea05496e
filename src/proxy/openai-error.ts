import type { ServerResponse } from 'node:http';

/** Where an error came from, as the OpenAI error body's `type` says it. */
export type OpenAiErrorType = 'invalid_request_error' | 'upstream_error' | 'timeout_error' | 'not_found_error';

/** The OpenAI error body `{"error":{"message","type","code"}}` as bytes. */
export function openAiErrorBody(message: string, type: OpenAiErrorType, code: string): Buffer {
  return Buffer.from(JSON.stringify({ error: { message, type, code } }));
}

/** Answers `res` with an OpenAI-shaped error; does nothing when the answer has already begun. */
export function sendOpenAiError(res: ServerResponse, status: number, message: string, type: OpenAiErrorType, code: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = openAiErrorBody(message, type, code);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}
