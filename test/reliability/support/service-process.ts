/** Starts the local service in a child process (see service-child.ts) and talks to it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { exited } from './processes.js';
import { PROJECT_ROOT, tsxArgs } from './project.js';

export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr and stdout so far (its pino log). */
  output(): string;
  /** Returns process.memoryUsage() of the service after a full GC; rejects when it does not answer within 15 s (a wedged service). */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** Closes it gracefully (or kills it when it does not go within 10 s). */
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Runs the service under `sh -c 'ulimit -f <blocks>; exec node …'`. */
  fileSizeLimitBlocks?: number;
  /** Forces a scan engine in the service (ROCK_MS_SCANNER). */
  scanner?: 'ts' | 'native';
}

/** Starts a service for `config` (a startServer input); resolves when it listens. */
export async function startServiceProcess(config: Record<string, unknown>, options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const args = ['--expose-gc', ...tsxArgs('./service-child.ts', JSON.stringify({ host: '127.0.0.1', port: 0, logLevel: 'warn', ...config }))];
  const spawnOptions = {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ('ignore' | 'pipe' | 'ipc')[],
    env: options.scanner ? { ...process.env, ROCK_MS_SCANNER: options.scanner } : process.env,
  };
  const child =
    options.fileSizeLimitBlocks === undefined
      ? spawn(process.execPath, args, spawnOptions)
      : spawn('sh', ['-c', `ulimit -f ${options.fileSizeLimitBlocks}; exec "$0" "$@"`, process.execPath, ...args], spawnOptions);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the service exited (${code}) before it listened:\n${output}`));
    child.once('exit', onExit);
    child.once('message', (m: { url: string }) => {
      child.off('exit', onExit);
      resolve(m.url);
    });
  });
  return {
    url,
    pid: child.pid!,
    child,
    output: () => output,
    memory: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error('the service did not report its memory within 15 s'));
        }, 15_000);
        const onMessage = (m: { memory?: NodeJS.MemoryUsage }): void => {
          if (!m.memory) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m.memory);
        };
        child.on('message', onMessage);
        child.send('memory');
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send('close');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}
