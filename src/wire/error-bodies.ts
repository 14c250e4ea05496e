/**
 * Error bodies in each agent API's own shape, so that every client shows our message instead
 * of a parse failure: OpenAI's `{"error":{"message","type","code"}}` (Chat Completions and
 * Responses) and Anthropic's `{"type":"error","error":{"type","message"}}` (Messages).
 */

/** Writes the error body of one API for a status, a stable code and a message. */
export type ErrorBodyShape = (status: number, code: string, message: string) => string;

/** Returns OpenAI's error type for a status: client errors are the caller's, the rest the server's. */
function openAiType(status: number): string {
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status < 500) return 'invalid_request_error';
  if (status === 504) return 'timeout_error';
  return 'server_error';
}

/** Returns the error object OpenAI APIs nest under `error` (bodies, and Chat Completions and Responses stream errors). */
export function openAiError(status: number, code: string, message: string): { message: string; type: string; code: string } {
  return { message, type: openAiType(status), code };
}

/** Returns the JSON text of an OpenAI error body. */
export const openAiErrorBody: ErrorBodyShape = (status, code, message) => JSON.stringify({ error: openAiError(status, code, message) });

/** Anthropic's error types by status (its documented table); others fall to the nearest class. */
const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

function anthropicType(status: number): string {
  return ANTHROPIC_TYPES[status] ?? (status === 503 ? 'overloaded_error' : status < 500 ? 'invalid_request_error' : 'api_error');
}

/** Returns the JSON text of an Anthropic error body; the stable code leads the message. */
export const anthropicErrorBody: ErrorBodyShape = (status, code, message) =>
  JSON.stringify({ type: 'error', error: { type: anthropicType(status), message: `${code}: ${message}` } });
