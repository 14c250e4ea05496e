/**
 * The whole command tree, parsed by commander: usage, help and every usage error come from
 * here. Each command's module is imported only when that command runs.
 */
import { Command } from 'commander';
import { runCommand as run } from './run-command.js';

/** Returns the whole program; `args` are the normalised arguments (the background start passes its own flags on). */
export function buildProgram(args: readonly string[]): Command {
  const program = new Command('rock').description('ROCK model service: an OpenAI-compatible endpoint answered through a log file').exitOverride();
  const group = program.command('model-service').description('start, stop and drive the model service').exitOverride();

  group
    .command('start')
    .description('start the model service (in the background unless --foreground)')
    .option('--type <type>', 'local or proxy (default local)')
    .option('--config-file <file>', 'YAML config file (snake_case keys); flags override it')
    .option('--host <host>', 'address to listen on (default 0.0.0.0)')
    .option('--port <port>', 'port to listen on (default 8080)')
    .option('--proxy-base-url <url>', 'proxy mode: upstream base URL')
    .option('--retryable-status-codes <codes>', 'proxy mode: comma-separated statuses to retry (default 429,500)')
    .option('--request-timeout <seconds>', 'local mode: how long a request waits for its response; proxy mode: upstream timeout')
    .option('--recording-file <file>', 'proxy mode: JSONL file recording every call')
    .option('--replay-file <file>', 'proxy mode: answer from this recording instead of an upstream')
    .option('--foreground', 'run in this process instead of in the background')
    .exitOverride()
    .action(async (options) => {
      const { start } = await import('./commands/start.js');
      await run('start', () => start(options, startArgs(args)));
    });

  group
    .command('stop')
    .description('stop the model service the pid file names')
    .exitOverride()
    .action(async () => {
      const { stop } = await import('./commands/stop.js');
      await run('stop', stop);
    });

  group
    .command('watch-agent')
    .description('end the session (SESSION_END) when the agent process exits')
    .requiredOption('--pid <pid>', 'agent process id')
    .option('--host <host>', 'service host (default: the running service, else 127.0.0.1)')
    .option('--port <port>', 'service port (default: the running service, else 8080)')
    .exitOverride()
    .action(async (options) => {
      const { watchAgent } = await import('./commands/watch-agent.js');
      await run('watch-agent', () => watchAgent(options));
    });

  group
    .command('anti-call-llm')
    .description('answer LLM call N and print request N+1 (or SESSION_END)')
    .requiredOption('--index <n>', 'index of the previous call; 0 to wait for the first request')
    .option('--response <json>', 'the response to call N (required when N > 0)')
    .option('--response-file <file>', 'read the response from this file (deleted after it is appended)')
    .option('--timeout <seconds>', 'give up after this long (exit 3); default: wait without limit')
    .exitOverride()
    .action(async (options) => {
      const { antiCallLlm } = await import('./commands/anti-call-llm.js');
      await run('anti-call-llm', () => antiCallLlm(options));
    });

  group
    .command('status')
    .description('pid, address, health, log and scanner, one "key: value" per line')
    .option('--json', 'print one JSON object instead')
    .exitOverride()
    .action(async (options) => {
      const { status } = await import('./commands/status.js');
      await run('status', () => status(options));
    });
  group
    .command('trace')
    .description('show a session (LLMService.log, LLMTraj.jsonl or a proxy recording) as a conversation')
    .argument('<file>', 'the log, trajectory or recording to show')
    .option('--json', 'one JSON object per turn (and per session end or skipped line), as they are read')
    .option('--html <file>', 'write one self-contained HTML page instead (latency timeline, search)')
    .option('--follow', 'keep reading what the log gains, until Ctrl-C')
    .option('--full', 'show long messages whole instead of folded')
    .exitOverride()
    .action(async (file: string, options) => {
      const { trace } = await import('./commands/trace.js');
      await run('trace', () => trace(file, options));
    });
  return program;
}

/** The flags of `start` as given (after `model-service start`), to hand to the background copy, which adds --foreground itself. */
function startArgs(args: readonly string[]): string[] {
  return args.slice(2).filter((arg) => arg !== '--foreground');
}
