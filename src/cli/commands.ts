/**
 * The sub-command areas. Each area is one module with a function that attaches its
 * commands (with their own `--help`) to the program. Modules load on demand: a run of
 * `quantbook run` loads the notebook area only, not the backtest, forecast and data
 * libraries behind the other commands (about 0.3 s of start-up on a 2-core machine);
 * `quantbook --help` and an unknown command load them all.
 */
import type { Command } from 'commander';

/** Attaches one area's sub-commands to the program. */
export type CommandRegistration = (program: Command) => void;

/** One area: the top-level command names it registers and how to load its registration. */
export interface CommandArea {
  commands: readonly string[];
  load: () => Promise<CommandRegistration>;
}

/** In the order `quantbook --help` lists them: the main job first. */
export const commandAreas: readonly CommandArea[] = [
  { commands: ['run', 'report', 'sweep'], load: async () => (await import('./notebook')).registerNotebookCommands },
  { commands: ['data'], load: async () => (await import('./data')).registerDataCommands },
  { commands: ['eval'], load: async () => (await import('./eval')).registerEvalCommands },
  { commands: ['backtest'], load: async () => (await import('./backtest')).registerBacktestCommands },
  { commands: ['calibrate'], load: async () => (await import('./calibrate')).registerCalibrateCommands },
  { commands: ['forecast'], load: async () => (await import('./forecast')).registerForecastCommands },
  { commands: ['gbdt'], load: async () => (await import('./gbdt')).registerGbdtCommands },
  { commands: ['live'], load: async () => (await import('./live')).registerLiveCommands },
  { commands: ['serve'], load: async () => (await import('./serve')).registerServeCommands },
  { commands: ['worker'], load: async () => (await import('./worker')).registerWorkerCommands },
  { commands: ['runs'], load: async () => (await import('./runs')).registerRunsCommands },
  { commands: ['models'], load: async () => (await import('./models')).registerModelsCommands },
];

/**
 * The registrations a command line needs: the area of its first word when that names a
 * command, every area otherwise (top-level help, `--version`, a typo to report).
 * @example (await registrationsFor(['node', 'quantbook', 'run', 'nb.ipynb'])).length // 1
 */
export async function registrationsFor(argv: readonly string[]): Promise<CommandRegistration[]> {
  const first = argv.slice(2).find((a) => a !== '--debug');
  const area = commandAreas.find((a) => first !== undefined && a.commands.includes(first));
  return Promise.all((area ? [area] : commandAreas).map((a) => a.load()));
}
