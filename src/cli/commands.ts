/**
 * The list of sub-command registrations. Each area adds one function that
 * attaches its commands (with their own `--help`) to the program.
 */
import type { Command } from 'commander';
import { registerBacktestCommands } from './backtest';
import { registerCalibrateCommands } from './calibrate';
import { registerDataCommands } from './data';
import { registerEvalCommands } from './eval';
import { registerForecastCommands } from './forecast';
import { registerNotebookCommands } from './notebook';

/** Attaches one area's sub-commands to the program. */
export type CommandRegistration = (program: Command) => void;

/** In the order `quantbook --help` lists them: the main job first. */
export const commandRegistrations: CommandRegistration[] = [
  registerNotebookCommands,
  registerDataCommands,
  registerEvalCommands,
  registerBacktestCommands,
  registerCalibrateCommands,
  registerForecastCommands,
];
