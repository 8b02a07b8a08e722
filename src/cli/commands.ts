/**
 * The list of sub-command registrations. Each area adds one function that
 * attaches its commands (with their own `--help`) to the program.
 */
import type { Command } from 'commander';
import { registerEvalCommands } from './eval';
import { registerDataCommands } from './data';
import { registerBacktestCommands } from './backtest';

/** Attaches one area's sub-commands to the program. */
export type CommandRegistration = (program: Command) => void;

export const commandRegistrations: CommandRegistration[] = [registerDataCommands, registerEvalCommands, registerBacktestCommands];
