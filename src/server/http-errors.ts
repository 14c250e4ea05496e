/**
 * Maps errors to HTTP statuses and OpenAI-shaped bodies `{"error":{"message","type","code"}}`,
 * so that agents built on OpenAI clients show our message instead of a parse failure.
 */
import type { FastifyReply } from 'fastify';
import { ModelServiceError } from '../errors.js';

/** Returns the OpenAI error type for a status: client errors are the caller's, the rest the server's. */
function errorType(status: number): string {
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status < 500) return 'invalid_request_error';
  if (status === 504) return 'timeout_error';
  return 'server_error';
}

/** Returns the JSON text of an OpenAI error body. */
export function openAiErrorBody(status: number, message: string, code: string): string {
  return JSON.stringify({ error: { message, type: errorType(status), code } });
}

/** Returns the status and stable code for any error (fastify's own errors carry statusCode and code). */
export function classifyError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof ModelServiceError) {
    return { status: err.httpStatus, code: err.code, message: err.message };
  }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  const status = typeof e?.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500;
  const code = status === 413 ? 'RMS_BODY_TOO_LARGE' : typeof e?.code === 'string' ? e.code : 'RMS_ERROR';
  const message =
    status === 413
      ? 'the request body is larger than the service accepts; send a smaller conversation, or raise the body limit'
      : typeof e?.message === 'string' && status < 500
        ? e.message
        : 'internal error in the model service; see the service log';
  return { status, code, message };
}

/** Sends `err` as an OpenAI error body; returns the reply for chaining. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, code, message } = classifyError(err);
  return reply.code(status).type('application/json').send(openAiErrorBody(status, message, code));
}
