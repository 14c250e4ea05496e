/** `rock model-service anti-call-llm`: one runtime turn (docs/cli.md). */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkTurn, ModelClient } from '../../client/model-client.js';
import { TimeoutError, UsageError } from '../../errors.js';
import { parseIndex, parseSeconds, shown, type AntiCallOptions } from '../parse-options.js';
import { writeStdoutSync } from '../write-stdout.js';

const NEWLINE = Buffer.from('\n');
const COMMAND = 'rock model-service anti-call-llm';

/**
 * Appends the response to turn N (when N > 0), then prints request N+1 or `SESSION_END`. A
 * different answer to an N already answered is not written: one stderr line says so, and the
 * turn goes on (the first answer stands, as in the reference).
 * @throws UsageError and the ModelClient's errors (see exit-status.ts for the exit codes).
 */
export async function antiCallLlm(options: AntiCallOptions): Promise<void> {
  const index = parseIndex(options.index);
  const timeoutMs = options.timeout === undefined ? undefined : parseSeconds('--timeout', options.timeout) * 1000;
  if (options.response !== undefined && options.responseFile !== undefined) {
    throw new UsageError('give the response with --response or with --response-file, not both');
  }
  // Loaded only when used: most runtimes pass --response, and every turn pays for what loads.
  const file = options.responseFile === undefined ? undefined : await (await import('../response-file.js')).readResponseFile(options.responseFile, timeoutMs);
  const response = file?.text ?? options.response;
  checkTurn(index, response);
  const client = new ModelClient();
  try {
    if (response !== undefined) {
      const outcome = await client.appendResponse(index, response);
      if (outcome === 'conflict') {
        warn(`response ${index} is already in ${shown(client.logFile)} with another payload; the first answer stands and this one was not written`);
      } else if (file !== undefined) {
        // The response is in the log: a failed clean-up must not fail the turn (its retry would fail the same way).
        const problem = file.remove();
        if (problem !== undefined) warn(problem);
      }
    } else if (!existsSync(client.logFile)) {
      warn(`there is no log at ${shown(client.logFile)} yet; waiting for it (ROCK_MODEL_SERVICE_DATA_DIR sets the data dir, here ${shown(dirname(client.logFile))})`);
    }
    // The stored bytes go out as they are: no decoding and re-encoding of a megabyte request.
    writeStdoutSync(await waitForRequest(client, index + 1, timeoutMs), NEWLINE);
  } finally {
    client.close();
  }
}

async function waitForRequest(client: ModelClient, index: number, timeoutMs: number | undefined): Promise<Buffer> {
  try {
    return await client.popRequestBytes(index, { timeoutMs });
  } catch (err) {
    if (!(err instanceof TimeoutError) || existsSync(client.logFile)) throw err;
    throw new TimeoutError(
      `timed out after ${err.timeoutMs / 1000} s waiting for request ${index}: there is no log at ${shown(client.logFile)}; ` +
        'start the model service, or point ROCK_MODEL_SERVICE_DATA_DIR at its data dir',
      err.timeoutMs,
    );
  }
}

function warn(message: string): void {
  process.stderr.write(`${COMMAND}: ${message}\n`);
}
