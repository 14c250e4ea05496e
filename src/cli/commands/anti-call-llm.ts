/** `rock model-service anti-call-llm`: one runtime turn (SPEC section 5). */
import { readFileSync, rmSync } from 'node:fs';
import { checkTurn, ModelClient } from '../../client/model-client.js';
import { UsageError } from '../../errors.js';
import { decodeUtf8 } from '../../protocol/index.js';
import { writeStdoutSync } from '../write-stdout.js';
import { parseIndex, parseSeconds } from '../parse-options.js';

const NEWLINE = Buffer.from('\n');

export interface AntiCallOptions {
  index: string;
  response?: string;
  responseFile?: string;
  timeout?: string;
}

/**
 * Appends the response to turn N (when N > 0), then prints request N+1 or `SESSION_END`.
 * @throws UsageError and the ModelClient's errors (see exit-status.ts for the exit codes).
 */
export async function antiCallLlm(options: AntiCallOptions): Promise<void> {
  const index = parseIndex(options.index);
  const timeoutMs = options.timeout === undefined ? undefined : parseSeconds('--timeout', options.timeout) * 1000;
  if (options.response !== undefined && options.responseFile !== undefined) {
    throw new UsageError('give the response with --response or with --response-file, not both');
  }
  const response = options.responseFile === undefined ? options.response : readResponseFile(options.responseFile);
  checkTurn(index, response);
  const client = new ModelClient();
  try {
    if (response !== undefined) {
      await client.pushResponse(index, response);
      if (options.responseFile !== undefined) rmSync(options.responseFile, { force: true });
    }
    // The stored bytes go out as they are: no decoding and re-encoding of a megabyte request.
    writeStdoutSync(await client.popRequestBytes(index + 1, { timeoutMs }), NEWLINE);
  } finally {
    client.close();
  }
}

function readResponseFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read --response-file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass an existing file`);
  }
  return decodeUtf8(bytes);
}
