// Errors: match on `code` or `instanceof`, never on the message; each code has its HTTP status, exit status and retry advice.
import { ERROR_CODES, errorSpec, EXIT_BAD_INPUT, EXIT_TIMEOUT, ModelClient, ModelServiceError, UsageError } from 'rock-model-service';

const client = new ModelClient({ logFile: '/nonexistent/LLMService.log' });
for (const turn of [() => client.antiCallLlm(1), () => client.antiCallLlm(1, '{"choices":[]}'), () => client.popRequest(1, { timeoutMs: 50 })]) {
  try {
    await turn();
  } catch (err) {
    if (!(err instanceof ModelServiceError)) throw err;
    console.log(err.name, err.code, err.httpStatus, err.exitStatus, err.retryable, err instanceof UsageError);
  }
}
client.close();

console.log(errorSpec('RMS_SESSION_ENDED'));
console.log(ERROR_CODES.RMS_TIMEOUT.status, ERROR_CODES.RMS_TIMEOUT.exit, EXIT_BAD_INPUT, EXIT_TIMEOUT);
