/**
 * The `quantbook` command line: one program, one sub-command per area.
 *
 * Errors from the library (`DataError`, `ModelError`, `ConfigError`,
 * `NotebookError`, `OutputError`) print one readable line and exit 1, as do commander's usage
 * errors; 2 is the launcher's "library not built" (bin/quantbook.js); a
 * stack trace is printed only with `--debug`.
 */
import { Command, CommanderError } from 'commander';
import { QuantbookError } from '../core/errors';
import { VERSION } from '../core/version';
import { registrationsFor } from './commands';

/**
 * Builds the commander program: every sub-command, or only those of the area that `argv`'s
 * first word names (see {@link registrationsFor}).
 * @example (await buildProgram(['node', 'quantbook', 'run'])).commands.map((c) => c.name()) // ['run', 'report', 'sweep']
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('quantbook')
    .description('Probabilistic market forecasting, Kelly-sized backtests and calibration, in notebooks and scripts')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of await registrationsFor(argv ?? [])) register(program);
  // Sub-commands inherit exitOverride and the output streams.
  return program;
}

/**
 * Runs the CLI and resolves to the process exit code.
 * @param argv - `process.argv`-style array (node, script, ...args).
 */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    const code = process.exitCode;
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    return reportError(err, debug);
  }
}

/** Prints an error the way the CLI promises (one line unless --debug) and returns the exit code. */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0.
    return err.exitCode;
  }
  if (debug && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  } else if (err instanceof QuantbookError) {
    process.stderr.write(`quantbook: ${err.name}: ${err.message}\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`quantbook: ${err.name}: ${err.message.split('\n')[0]} (run with --debug for the stack trace)\n`);
  } else {
    process.stderr.write(`quantbook: ${String(err)}\n`);
  }
  return 1;
}
