// Your own sandbox provider: implement run() and upload(). This one shows what ModelService runs, over a LocalSandbox.
import { LocalSandbox, ModelService } from 'rock-model-service';

class ShowingSandbox {
  #inner = new LocalSandbox();

  /** Runs `command` with bash; resolves (never rejects) with the exit code, output, and whether it timed out. */
  async run(command, { timeoutMs, env, checkIntervalMs }) {
    console.log(`run (${timeoutMs / 1000} s):`, command.replaceAll('\n', ' ⏎ '));
    return this.#inner.run(command, { timeoutMs, env, checkIntervalMs });
  }

  /** Writes bytes, text or a local file at `remotePath` in the sandbox, making its directories. */
  async upload(source, remotePath) {
    console.log('upload:', 'content' in source ? `${source.content.length} bytes` : source.localPath, '->', remotePath);
    return this.#inner.upload(source, remotePath);
  }

  close() {
    return this.#inner.close();
  }
}

const sandbox = new ShowingSandbox();
const service = new ModelService(sandbox, {
  installCmd: 'command -v rock',
  startCmd: 'rock model-service start --type ${type} --host 127.0.0.1 --port 0',
  loggingPath: 'logs', // relative: inside the sandbox's directory
});
try {
  await service.install();
  await service.start();
  await service.watchAgent(2 ** 22 + 1); // no such process: the session ends within a second
  console.log(await service.antiCallLlm(0, undefined, { callTimeout: 10 }));
} finally {
  await service.stop();
  await sandbox.close();
}
