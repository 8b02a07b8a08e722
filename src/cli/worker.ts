/**
 * `quantbook worker`: runs sweep jobs from a Redis queue (see `quantbook sweep --queue`).
 */
import { Command, Option } from 'commander';
import { ConfigError } from '../core/errors';

function positive(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} takes a number > 0`, { key: flag, value: v });
    return n;
  };
}

/**
 * Attaches `worker`.
 * @example registerWorkerCommands(new Command()) // adds `quantbook worker`
 */
export function registerWorkerCommands(program: Command): void {
  program.command('worker')
    .description('run queued sweep combinations (quantbook sweep --queue) on this machine until stopped')
    .requiredOption('--queue <redis://host:port/db>', 'the Redis queue the coordinator uses')
    .addOption(new Option('--concurrency <n>', 'combinations run at once (each a kernel)').argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError('--concurrency takes a whole number >= 1', { key: '--concurrency', value: v });
      return n;
    }).default(1))
    .addOption(new Option('--lock-duration <seconds>', 'a job whose worker stops renewing its lock this long goes back to the queue').argParser(positive('--lock-duration')).default(30))
    .option('--no-build', 'do not rebuild dist/ when sources are newer')
    .option('-q, --quiet', 'no progress lines')
    .addHelpText('after', `
The worker runs each job in a fresh tslab kernel in this checkout. It refuses a job
made by a coordinator on other code (another commit, other uncommitted changes, or
another notebook under the same path) with a message naming both versions.
SIGINT or SIGTERM: finishes the jobs in hand (up to 30 s, then they go back to the
queue) and exits.`)
    .action(async (flags: { queue: string; concurrency: number; lockDuration: number; build: boolean; quiet?: boolean }) => {
      const { ensureFreshBuild } = await import('../notebook/runner/build');
      if (flags.build && ensureFreshBuild() && !flags.quiet) process.stderr.write('rebuilt dist/ (sources were newer)\n');
      const { startWorker } = await import('../notebook/sweep/worker');
      const log = flags.quiet ? undefined : (line: string) => process.stderr.write(`[worker] ${new Date().toISOString()} ${line}\n`);
      const worker = await startWorker(flags.queue, { concurrency: flags.concurrency, lockDurationMs: flags.lockDuration * 1000, log });
      await new Promise<void>((resolveStop) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          process.once(signal, () => {
            log?.(`${signal}: finishing the jobs in hand`);
            void worker.close(30_000).then(resolveStop, resolveStop);
          });
        }
      });
    });
}
