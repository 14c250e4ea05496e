/**
 * A runtime for racing-answers: loads the client, says `ready`, reads from its stdin the time
 * (Date.now()) at which to answer, and spins until then, so that several of them append in the
 * same millisecond (CLI processes start tens of milliseconds apart). argv: log index payload.
 * Prints one JSON line.
 */
import { ModelClient } from '../../../src/client/model-client.js';

const [log, index, payload] = process.argv.slice(2);
const client = new ModelClient({ logFile: log! });
process.stdout.write('ready\n');
process.stdin.once('data', (line: Buffer) => {
  const at = Number(line.toString().trim());
  while (Date.now() < at) {
    // spin: a timer would wake each process at a slightly different moment
  }
  client.pushResponse(Number(index), payload!).then(
    (written) => process.stdout.write(JSON.stringify({ written }) + '\n'),
    (err: Error & { code?: string }) => process.stdout.write(JSON.stringify({ error: `${err.code}: ${err.message}` }) + '\n'),
  ).finally(() => {
    client.close();
    process.stdin.destroy();
  });
});
