/**
 * The whole command tree, parsed by commander: usage, help and every usage error come from
 * here. Each command's module is imported only when that command runs.
 */
import { Command } from 'commander';
import { DEFAULT_PORT } from '../config/defaults.js';
import { VERSION } from '../version.js';
import { ANTI_CALL_FLAGS } from './parse-options.js';
import { runCommand as run } from './run-command.js';
import { START_FLAGS, startArgs } from './start-flags.js';

/** Returns the whole program; `args` are the normalised arguments (the background start passes its own flags on). */
export function buildProgram(args: readonly string[]): Command {
  const program = new Command('rock')
    .description('ROCK model service: an OpenAI-compatible endpoint answered through a log file')
    .version(VERSION)
    .exitOverride();
  const group = program.command('model-service').description('start, stop and drive the model service').version(VERSION).exitOverride();

  const startCommand = group.command('start').description('start the model service (in the background unless --foreground)');
  for (const flag of START_FLAGS) startCommand.option(flag.value === undefined ? `--${flag.name}` : `--${flag.name} ${flag.value}`, flag.description);
  startCommand.exitOverride().action(async (options) => {
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
    .option('--port <port>', `service port (default: the running service, else ${DEFAULT_PORT})`)
    .exitOverride()
    .action(async (options) => {
      const { watchAgent } = await import('./commands/watch-agent.js');
      await run('watch-agent', () => watchAgent(options));
    });

  const antiCall = group.command('anti-call-llm').description('answer LLM call N and print request N+1 (or SESSION_END)');
  for (const flag of ANTI_CALL_FLAGS) {
    const spelling = `--${flag.name} ${flag.value}`;
    if (flag.required) antiCall.requiredOption(spelling, flag.description);
    else antiCall.option(spelling, flag.description);
  }
  antiCall
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

