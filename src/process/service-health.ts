/**
 * How `start` knows that a /health answer came from the child it started: it
 * gives each child a random token in its environment, and the service reports it, with its pid,
 * in every /health answer (`{"status":"healthy","version","pid","mode","start_token"}`, see
 * server/start.ts). Another service answering on the same port (a leftover from another working
 * dir, while the child died with EADDRINUSE) cannot.
 */

/** The environment variable through which `start` hands its child the start token. */
export const START_TOKEN_ENV = 'ROCK_MS_START_TOKEN';

/** Returns whether a /health answer's body says healthy with the pid and start token of the process `pid` started with `token`. */
export function isHealthOf(body: string, pid: number, token: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null) return false;
  const health = value as { status?: unknown; pid?: unknown; start_token?: unknown };
  return health.status === 'healthy' && health.pid === pid && health.start_token === token;
}
