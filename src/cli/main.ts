/**
 * Entry of the `rock` / `rock-model-service` program (docs/cli.md). `anti-call-llm` starts
 * once per turn in every sandbox, so a well-formed call of it is read with node's own
 * parseArgs and runs without loading commander (about 10 ms of a 50 ms start here, and more
 * on a loaded machine); `--version` alone is answered without it too, and so is the service
 * process itself (`start --foreground`, which a background `start` launches: every sandbox runs
 * one, and commander would hold about a megabyte of its memory). Anything else, and any call whose
 * flags the quick reading does not accept exactly, goes to the commander program, which owns
 * usage, help and error messages.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { CommanderError } from 'commander';
import { ANTI_CALL_FLAGS, type AntiCallOptions } from './parse-options.js';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-status.js';
import { runCommand } from './run-command.js';
import { START_FLAGS, startArgs, type StartOptions } from './start-flags.js';

const SUBCOMMANDS = new Set(['start', 'stop', 'watch-agent', 'anti-call-llm', 'status', 'trace']);
const VERSION_FLAGS = new Set(['--version', '-V']);

/** `rock-model-service start` means `rock model-service start`: both binaries run this program. */
function normalisedArgs(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  if (basename(argv[1] ?? '').startsWith('rock-model-service') && SUBCOMMANDS.has(args[0] ?? '')) return ['model-service', ...args];
  return args;
}

/** The anti-call flags when they are plainly well-formed; undefined sends the call to commander. */
function quickAntiCallOptions(args: readonly string[]): AntiCallOptions | undefined {
  if (args[0] !== 'model-service' || args[1] !== 'anti-call-llm') return undefined;
  try {
    const { values } = parseArgs({
      args: args.slice(2),
      options: Object.fromEntries(ANTI_CALL_FLAGS.map((flag) => [flag.name, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    });
    if (ANTI_CALL_FLAGS.some((flag) => flag.required && values[flag.name] === undefined)) return undefined;
    return Object.fromEntries(ANTI_CALL_FLAGS.map((flag) => [flag.key, values[flag.name]])) as unknown as AntiCallOptions;
  } catch {
    return undefined;
  }
}

/** The start flags of `model-service start … --foreground` when they are plainly well-formed; undefined sends the call to commander. */
function quickForegroundStart(args: readonly string[]): StartOptions | undefined {
  if (args[0] !== 'model-service' || args[1] !== 'start' || !args.includes('--foreground')) return undefined;
  try {
    const { values } = parseArgs({
      args: args.slice(2),
      options: Object.fromEntries(START_FLAGS.map((flag) => [flag.name, { type: flag.value === undefined ? ('boolean' as const) : ('string' as const) }])),
      strict: true,
      allowPositionals: false,
    });
    return Object.fromEntries(START_FLAGS.map((flag) => [flag.key, values[flag.name]])) as StartOptions;
  } catch {
    return undefined;
  }
}

/** `rock --version` and `rock model-service --version`, exactly. */
function asksVersion(args: readonly string[]): boolean {
  const rest = args[0] === 'model-service' ? args.slice(1) : args;
  return rest.length === 1 && VERSION_FLAGS.has(rest[0]!);
}

/** Runs the program on `argv` (process.argv's shape); usage errors become exit statuses, anything else rejects. */
async function main(argv: readonly string[]): Promise<void> {
  const args = normalisedArgs(argv);
  const quick = quickAntiCallOptions(args);
  if (quick !== undefined) {
    const { antiCallLlm } = await import('./commands/anti-call-llm.js');
    await runCommand('anti-call-llm', () => antiCallLlm(quick));
    return;
  }
  const foreground = quickForegroundStart(args);
  if (foreground !== undefined) {
    const { start } = await import('./commands/start.js');
    await runCommand('start', () => start(foreground, startArgs(args)));
    return;
  }
  if (asksVersion(args)) {
    const { VERSION } = await import('../version.js');
    const { writeStdoutSync } = await import('./write-stdout.js');
    writeStdoutSync(`${VERSION}\n`);
    return;
  }
  const { buildProgram } = await import('./program.js');
  try {
    await buildProgram(args).parseAsync(args, { from: 'user' });
  } catch (err) {
    const { code, exitCode } = err as Partial<CommanderError>;
    if (!code?.startsWith('commander.')) throw err;
    // Commander already printed its message. --help and --version exit 0; everything else it
    // refuses (unknown option, missing value, no command given) is bad usage.
    process.exitCode = exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
  }
}

// No top-level await: the standalone executable runs this module as CommonJS (scripts/bundle.mjs).
// A rejection is an unhandled one, which Node prints and turns into exit status 1, as before.
void main(process.argv);
