/**
 * `quantbook run`, `quantbook report` and `quantbook sweep`: notebooks run
 * headless into self-contained HTML reports.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, NotebookError } from '../core/errors';
import { checkOutputDir } from '../core/output';
import { formatDuration } from '../notebook/report/format';
import { ensureFreshBuild, packageRoot } from '../notebook/runner/build';
import type { Parameters, RunSummary } from '../notebook/records/run';
import type { GridAxis } from '../notebook/records/sweep';
import { collectParameters } from '../notebook/runner/parameters';
import type { PoolProgress } from '../notebook/runner/pool';
import { COMPILE_CACHE_SWITCH } from '../notebook/runner/compileCache';
import type { KernelClient } from '../notebook/runner/kernel';
import type { RunProgress, RunResult } from '../notebook/runner/run';
import { addToCatalogue } from './catalogue';

// The runner loads zeromq, markdown-it and highlight.js: only when a command runs.
const runner = () => import('../notebook/runner/reports');
const sweeper = () => import('../notebook/sweep/sweep');

interface ParameterFlags {
  parameter?: string[];
  parametersFile?: string[];
  parametersYaml?: string[];
}

interface RunFlags extends ParameterFlags {
  out: string;
  cellTimeout: number;
  startTimeout: number;
  build: boolean;
  collapseCode?: boolean;
  quiet?: boolean;
}

function seconds(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${flag} takes a number of seconds >= 0`, { key: flag, value: v });
    return n;
  };
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${flag} takes a whole number >= 1`, { key: flag, value: v });
    return n;
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Collects one catalogue row per notebook run (see {@link addToCatalogue}). */
function catalogueCollector(command: string, outDir: string, sweepId: string | null) {
  // DuckDB's bindings take a second or more to load on a busy machine: load them while kernels
  // start and cells run, not after the last cell (issue 20).
  const preload = import('../catalogue/store').then((m) => m.preloadCatalogue());
  preload.catch(() => undefined);
  const done: Array<[RunSummary, RunResult | undefined]> = [];
  const argv = process.argv.slice(2);
  return {
    onRunDone: (summary: RunSummary, result: RunResult | undefined) => {
      done.push([summary, result]);
    },
    /** Writes the rows: in the order of `order` (e.g. the notebooks as given) when given, else as the runs ended. */
    flush: async (order?: readonly RunSummary[]) => {
      const { notebookRunRow } = await import('../catalogue/rows');
      const rank = (s: RunSummary): number => order?.indexOf(s) ?? 0;
      const rows = [...done].sort((a, b) => rank(a[0]) - rank(b[0]));
      await addToCatalogue(() => rows.map(([summary, result]) => notebookRunRow(command, argv, summary, result, outDir, sweepId)));
    },
  };
}

function addRunOptions(cmd: Command, defaults: { out: string }): Command {
  return cmd
    .option('-p, --parameter <name value...>', 'set a parameter, papermill style (repeatable): a number, true/false, null, JSON, else text')
    .option('-f, --parameters-file <file.yaml>', 'read parameters from a YAML mapping (repeatable)', collect)
    .option('-y, --parameters-yaml <yaml>', "parameters as a YAML mapping, e.g. -y 'horizon: 30' (repeatable)", collect)
    .option('-o, --out <dir>', 'output folder', defaults.out)
    .option('--cell-timeout <seconds>', 'interrupt a cell after this long, then kill the kernel (0 = never)', seconds('--cell-timeout'), 1800)
    .option('--start-timeout <seconds>', 'give up when the kernel has not started after this long', seconds('--start-timeout'), 60)
    .option('--collapse-code', 'fold code cells in the HTML report (readers can unfold them)')
    .option('--no-build', 'do not rebuild dist/ when sources are newer (notebooks import ../dist)')
    .option('--no-compile-cache', `type-check and compile every cell again, even one whose source, earlier cells and declarations are those of an earlier run (also ${COMPILE_CACHE_SWITCH}=off)`)
    // Before any kernel starts (run and report start theirs while they prepare): every kernel this process starts reads it.
    .hook('preAction', (c) => {
      if ((c.opts() as { compileCache?: boolean }).compileCache === false) process.env[COMPILE_CACHE_SWITCH] = 'off';
    });
}

/** Parameters from -f, -y and -p, in papermill's order (later wins). */
function parametersOf(flags: ParameterFlags, notebook?: string): Parameters {
  const flat = flags.parameter ?? [];
  if (flat.length % 2 !== 0) {
    throw new NotebookError(`-p takes a name and a value each time; got ${flat.map((s) => JSON.stringify(s)).join(' ')} (put the notebook before -p)`, { key: '-p' });
  }
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return collectParameters({ files: flags.parametersFile, yaml: flags.parametersYaml, pairs }, notebook);
}

function runOptionsOf(flags: RunFlags) {
  return {
    cellTimeoutMs: flags.cellTimeout * 1000,
    startTimeoutMs: flags.startTimeout * 1000,
    ensureBuild: false, // built once per command, below
    report: { collapseCode: Boolean(flags.collapseCode) },
  };
}

// Ctrl-C reaches the kernels too (same process group), and tslab only
// interrupts its cell on SIGINT: kill them and remove their connection files
// (they hold the signing keys), then leave as an interrupted command (130, 143).
// A runner killed with SIGKILL runs nothing: each kernel's watchdog ends it.
async function killKernelsOnSignal(): Promise<void> {
  const { killAllKernels } = await import('../notebook/runner/kernelProcesses');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllKernels();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function buildFirst(flags: RunFlags): void {
  if (flags.build && ensureFreshBuild() && !flags.quiet) process.stderr.write('rebuilt dist/ (sources were newer)\n');
}

function cellProgress(quiet: boolean | undefined, name: string) {
  if (quiet) return undefined;
  return (e: RunProgress) => {
    if (e.kind === 'kernel-ready') process.stderr.write(`${name}: kernel ready in ${formatDuration(e.startupMs / 1000)}\n`);
    if (e.kind === 'cell-end') {
      const cell = e.cell === 'injected-parameters' ? 'injected parameters' : `cell ${e.cell}`;
      process.stderr.write(`${name}: [${e.position + 1}/${e.total}] ${cell} ${e.ok ? 'ok' : 'FAILED'} ${formatDuration(e.durationMs / 1000)}\n`);
    }
  };
}

function statusLine(s: RunSummary, outDir: string): string {
  const where = s.html ? ` -> ${join(outDir, s.html)}` : '';
  const notes = [...(s.warnings ?? []).map((w) => `warning: ${w}`), ...(s.error ? [s.error] : [])];
  return `${s.status === 'ok' ? 'passed' : 'FAILED'}  ${s.name}  ${formatDuration(s.durationS)}${where}${notes.map((n) => `\n        ${n}`).join('')}`;
}

/**
 * Starts the kernel of a `quantbook run` (issue 20) before the notebook is checked; `stop` kills
 * it at once (a check failed) instead of waiting for its start-up. Resolves once the kernel process
 * is spawned, so that blocking work after it (reading the notebook, loading DuckDB) runs beside the
 * kernel's start-up instead of before its spawn.
 */
async function startKernelFor(notebook: string, opts: { startTimeoutMs: number }): Promise<{ starting: Promise<KernelClient>; stop: () => Promise<void> }> {
  const { KernelClient: Client } = await import('../notebook/runner/kernel');
  const { killAllKernels } = await import('../notebook/runner/kernelProcesses');
  let spawned!: () => void;
  const isSpawned = new Promise<void>((r) => void (spawned = r));
  const starting = Client.start({ cwd: dirname(resolve(notebook)), startTimeoutMs: opts.startTimeoutMs, notebook, onSpawn: () => spawned() });
  starting.then(() => spawned(), () => spawned()); // failed before spawning: the run reports it
  starting.catch(() => undefined); // awaited by the run
  await isSpawned;
  return {
    starting,
    stop: async () => {
      killAllKernels();
      await starting.then((k) => k.kill(), () => undefined);
    },
  };
}

/** Bad notebooks and parameters fail here, before any file is written (and, for `report`, before any kernel starts). */
async function checkFirst(notebook: string, parameterSets: Parameters[]): Promise<void> {
  const { checkRuns } = await import('../notebook/runner/run');
  for (const w of checkRuns(notebook, parameterSets)) process.stderr.write(`quantbook: warning: ${w}\n`);
}

/**
 * Output names and the output folder are checked before any kernel starts: a name that would
 * leave `--out` (`--name ../x`) or an unwritable or conflicting `--out` is one ConfigError line.
 */
async function checkOutputsFirst(outDir: string, runs: Array<{ notebook: string; name?: string }>): Promise<void> {
  const { outputFiles, reportName } = await runner();
  const files = runs.flatMap((r) => Object.values(outputFiles(outDir, r.name ?? reportName(r.notebook), r.name === undefined ? `the file name of ${r.notebook}` : '--name')));
  checkOutputDir(outDir, '--out', [...files.map((f) => basename(f)), 'index.html']);
}

/**
 * `quantbook report`'s default `--workers`: notebooks are one-threaded TypeScript compiles and
 * cells, so two at once fill a 2-core machine; more would hold more kernels (each loads its data)
 * in memory at once for little gain.
 */
const REPORT_WORKERS = Math.max(1, Math.min(2, availableParallelism()));

/**
 * Expected seconds of the notebooks: their last passing run in `outDir`, else their latest passing
 * run or report in the catalogue. A catalogue that is off, missing or busy gives no hints (the
 * notebooks then start in the order given); never an error.
 */
async function expectedDurations(notebooks: string[], outDir: string): Promise<Map<string, number>> {
  const { previousDurations } = await runner();
  const known = previousDurations(outDir);
  if (notebooks.every((nb) => known.has(resolve(nb)))) return known;
  const { cataloguePath, lastNotebookDurations } = await import('../catalogue/store');
  const path = cataloguePath();
  const fromCatalogue = path === null ? new Map<string, number>() : await lastNotebookDurations(path).catch(() => new Map<string, number>());
  return new Map([...fromCatalogue, ...known]);
}

/** Every top-level .ipynb of the notebooks folder (cwd's, else the package's). */
function defaultNotebooks(): string[] {
  const dir = existsSync('notebooks') ? 'notebooks' : join(packageRoot(), 'notebooks');
  if (!existsSync(dir)) throw new NotebookError('no notebooks folder here or in the package; name the notebooks to run', { file: dir });
  return readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort().map((f) => join(dir, f));
}

type QueuedFlags = RunFlags & { retries: number; queue?: string };
/** A new queued sweep, or the id of one to resume. */
type QueuedWork = { notebook: string; axes: GridAxis[]; fixed: Parameters; outDir: string } | { resume: string };

/** Runs a queued sweep (new or resumed) with progress lines, catalogue rows and the closing lines of a local sweep. */
async function followQueued(url: string, flags: QueuedFlags, work: QueuedWork): Promise<void> {
  const q = await import('../notebook/sweep/coordinator');
  let sweepId = '';
  const done: Array<[RunSummary, RunResult | undefined]> = [];
  const opts: import('../notebook/sweep/coordinator').QueuedSweepOptions = {
    attempts: flags.retries + 1,
    cellTimeoutMs: flags.cellTimeout * 1000,
    startTimeoutMs: flags.startTimeout * 1000,
    collapseCode: Boolean(flags.collapseCode),
    onQueued: (id) => {
      sweepId = id;
      process.stderr.write(`[sweep] ${id} on ${url.replace(/\/\/[^@/]*@/, '//***@')}; after a stop: quantbook sweep --resume ${id} --queue URL\n`);
    },
    onRunDone: (s, r) => {
      done.push([s, r]);
    },
    onProgress: (p) => {
      if (flags.quiet) return;
      const eta = p.done > 0 && p.done < p.total ? `, ETA ${formatDuration(((p.elapsedMs / p.done) * (p.total - p.done)) / 1000)}` : '';
      const what = p.recorded ? ` | #${p.recorded.index + 1} ${p.recorded.summary.name}: ${p.recorded.summary.status === 'ok' ? 'ok' : `FAILED: ${p.recorded.summary.error ?? ''}`}`
        : p.requeued !== undefined ? ` | #${p.requeued + 1} had left the queue: queued again` : '';
      process.stderr.write(`[sweep] ${p.done}/${p.total} done, ${p.failed} failed, ${p.running} running | elapsed ${formatDuration(p.elapsedMs / 1000)}${eta}${what}\n`);
    },
  };
  const result = 'resume' in work
    ? await q.resumeQueuedSweep(url, work.resume, opts)
    : await q.queueSweep(url, work.notebook, work.axes, work.fixed, work.outDir, opts);
  const { notebookRunRow } = await import('../catalogue/rows');
  const argv = process.argv.slice(2);
  await addToCatalogue(() => done.map(([s, r]) => notebookRunRow('sweep', argv, s, r, join(result.outDir, 'runs'), sweepId)));
  const nFailed = result.rows.filter((r) => r.summary.status !== 'ok').length;
  process.stdout.write(`sweep ${result.sweepId} of ${basename(result.notebook)}: ${result.rows.length} combinations, ${nFailed} failed, ${formatDuration(result.durationS)}\n`
    + `comparison: ${join(result.outDir, 'index.html')}\nresults: ${join(result.outDir, 'results.csv')}, ${join(result.outDir, 'results.json')}\n`);
  if (nFailed > 0) process.exitCode = 1;
}

/**
 * Attaches run, report and sweep.
 * @example registerNotebookCommands(new Command()) // adds run, report and sweep
 */
export function registerNotebookCommands(program: Command): void {
  addRunOptions(
    program.command('run <notebook>')
      .description('run one notebook headless in the tslab kernel (started in the notebook\'s folder) and write <name>.ipynb, <name>.html and <name>.run.json')
      .option('--name <name>', 'base name of the outputs (default: the notebook\'s file name)')
      .option('-q, --quiet', 'no progress lines'),
    { out: 'reports' },
  ).addHelpText('after', `
Examples:
  quantbook run notebooks/00-pipeline-sample.ipynb -p nPaths 2000 -p seed 7
  quantbook run notebooks/00-pipeline-sample.ipynb -f params.yaml -y 'horizon: 60' -o /tmp/out

Exit status 0 when every cell passed, 1 otherwise; the executed notebook and
its report are written either way (a failing cell is marked, papermill style).`)
    .action(async (notebook: string, flags: RunFlags & { name?: string }) => {
      const parameters = parametersOf(flags, notebook);
      const { reportName, runToFolder, writeIndex } = await runner();
      const name = flags.name ?? reportName(notebook);
      await checkOutputsFirst(flags.out, [{ notebook, name: flags.name }]);
      buildFirst(flags);
      await killKernelsOnSignal();
      // Issue 20: the kernel starts first and builds while the notebook is parsed and checked
      // and the run prepared; a check that fails kills it before any cell runs.
      const kernel = await startKernelFor(notebook, runOptionsOf(flags));
      try {
        await checkFirst(notebook, [parameters]);
      } catch (err) {
        await kernel.stop();
        throw err;
      }
      const catalogue = catalogueCollector('run', flags.out, null);
      const { summary, error } = await runToFolder(notebook, {
        ...runOptionsOf(flags), parameters, outDir: flags.out, name, onProgress: cellProgress(flags.quiet, name), onRunDone: catalogue.onRunDone,
          kernel: kernel.starting,
      });
      writeIndex(flags.out);
      await catalogue.flush();
      process.stdout.write(`${statusLine({ ...summary, warnings: [] }, flags.out)}\n`); // warnings were printed before the run
      if (error) {
        process.stderr.write(`quantbook: ${error.name}: ${error.message}\n`);
        process.exitCode = 1;
      }
    });

  addRunOptions(
    program.command('report [notebooks...]')
      .description('run notebooks (default: every notebooks/*.ipynb) into an HTML report each, plus index.html linking all runs')
      .addOption(new Option('-w, --workers <n>', 'notebooks run at once, each in its own fresh kernel (longest first, by earlier runs)')
        .argParser(positiveInt('--workers')).default(REPORT_WORKERS, 'the number of cores, at most 2'))
      .option('-q, --quiet', 'no per-cell progress lines'),
    { out: 'reports' },
  ).addHelpText('after', `
Parameters given here apply to every notebook. Exit status 0 when all passed.`)
    .action(async (notebooks: string[], flags: RunFlags & { workers: number }) => {
      const list = notebooks.length ? notebooks : defaultNotebooks();
      if (list.length === 0) throw new NotebookError('no notebooks to run', { file: 'notebooks' });
      const parameters = parametersOf(flags);
      await checkOutputsFirst(flags.out, list.map((notebook) => ({ notebook })));
      buildFirst(flags);
      await killKernelsOnSignal();
      const { runReports } = await runner();
      // The first kernels start now, before the order is known (issue 20): tslab takes seconds to
      // start, and reading the catalogue for the order loads DuckDB, which blocks; it waits only for
      // their spawns. Each is handed to a first run of its folder; one never taken is shut down.
      const { startEarlyKernels } = await import('../notebook/runner/kernelPool');
      const early = startEarlyKernels(list, Math.min(flags.workers, list.length), { startTimeoutMs: flags.startTimeout * 1000 });
      await Promise.all(early.map((e) => e.spawned));
      // Several at once: read how long each took before to start the longest first.
      const expectedS = flags.workers > 1 ? await expectedDurations(list, flags.out) : undefined;
      const catalogue = catalogueCollector('report', flags.out, null);
      const summaries = await runReports(list, {
        ...runOptionsOf(flags), parameters, outDir: flags.out, workers: flags.workers, expectedS, early, onRunDone: catalogue.onRunDone,
        onProgress: (p) => {
          if (p.kind === 'finish' && p.result) process.stdout.write(`${statusLine(p.result, flags.out)}\n`);
          else if (p.kind === 'start' && !flags.quiet) process.stderr.write(`running ${p.task} (${p.index + 1}/${p.total})\n`);
        },
      });
      await catalogue.flush(summaries); // the notebooks' order, not the order they ended in
      const failed = summaries.filter((s) => s.status !== 'ok').length;
      process.stdout.write(`index: ${join(flags.out, 'index.html')} (${summaries.length - failed} passed, ${failed} failed)\n`);
      if (failed > 0) process.exitCode = 1;
    });

  addRunOptions(
    program.command('sweep [notebook]')
      .description('run a notebook over every combination of a parameter grid; write a comparison page, results.csv and results.json')
      .option('-g, --grid <name=v1,v2,...>', 'a swept parameter and its values (repeatable; values read like -p, JSON allowed)', collect)
      .option('-c, --config <sweep.yaml>', 'a sweep config: `grid` (name: [values]) and `parameters` (fixed); --grid adds axes, -f/-y/-p override its parameters')
      .addOption(new Option('-w, --workers <n>', 'combinations run at once').argParser(positiveInt('--workers')).default(availableParallelism(), 'the number of cores'))
      .option('--queue <redis://host:port/db>', 'run the combinations on `quantbook worker`s of this Redis queue (BullMQ) instead of here')
      .addOption(new Option('--retries <n>', 'with --queue: runs of a failing combination after the first').argParser((v) => positiveInt('--retries')(String(Number(v) + 1)) - 1).default(1))
      .option('--resume <sweep-id>', 'with --queue: follow a queued sweep whose coordinator stopped (no notebook or grid needed)')
      .option('-q, --quiet', 'no progress lines'),
    { out: '' },
  ).addHelpText('after', `
Examples:
  quantbook sweep notebooks/00-pipeline-sample.ipynb --grid horizon=15,30,60 --grid volPerBar=0.0005,0.001 -w 2
  quantbook sweep notebooks/05-sweep.ipynb --config configs/sweep-05.yaml -w 2

-p/-f/-y fix parameters for every combination. The default output folder is
reports/sweeps/<notebook>-<UTC time>. Every combination runs even when some
fail; the exit status is 1 when any failed.`)
    .action(async (notebook: string | undefined,
      flags: RunFlags & { grid?: string[]; config?: string; workers: number; queue?: string; retries: number; resume?: string }) => {
      if (flags.resume) {
        if (!flags.queue) throw new ConfigError('--resume follows a queued sweep: give its --queue too', { key: '--resume' });
        await followQueued(flags.queue, flags, { resume: flags.resume });
        return;
      }
      if (!notebook) throw new NotebookError('sweep takes a notebook (or --resume SWEEP_ID --queue URL)', { key: 'notebook' });
      const { expandGrid, parseGridAxis, readSweepConfig, runSweep } = await sweeper();
      const { reportName } = await runner();
      const config = flags.config ? readSweepConfig(flags.config) : { axes: [], fixed: {} };
      const axes = [...config.axes, ...(flags.grid ?? []).map(parseGridAxis)];
      if (axes.length === 0) throw new NotebookError('nothing to sweep: give --grid name=v1,v2,... or a --config with a grid', { key: '--grid' });
      const fixed = { ...config.fixed, ...parametersOf(flags, notebook) };
      await checkFirst(notebook, expandGrid(axes).map((combo) => ({ ...fixed, ...combo })));
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
      const outDir = flags.out || join('reports', 'sweeps', `${reportName(notebook)}-${stamp}`);
      checkOutputDir(outDir, '--out', ['results.csv', 'results.json', 'index.html']);
      checkOutputDir(join(outDir, 'runs'), '--out');
      if (flags.queue) {
        await followQueued(flags.queue, flags, { notebook, axes, fixed, outDir });
        return;
      }
      buildFirst(flags);
      await killKernelsOnSignal();
      let failed = 0;
      const onProgress = (p: PoolProgress<Parameters, RunSummary>) => {
        if (p.kind !== 'finish') return;
        if (p.result?.status !== 'ok') failed++;
        if (flags.quiet) return;
        const eta = p.done < p.total ? `, ETA ${formatDuration(((p.elapsedMs / p.done) * (p.total - p.done)) / 1000)}` : '';
        const combo = Object.entries(p.task).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
        process.stderr.write(`[sweep] ${p.done}/${p.total} done, ${failed} failed, ${p.running} running | elapsed ${formatDuration(p.elapsedMs / 1000)}${eta} | `
          + `#${p.index + 1} ${combo}: ${p.result?.status === 'ok' ? 'ok' : `FAILED: ${p.result?.error ?? ''}`} ${formatDuration(p.result?.durationS ?? NaN)}\n`);
      };
      const catalogue = catalogueCollector('sweep', join(outDir, 'runs'), `sweep-${basename(outDir)}`);
      const result = await runSweep(notebook, { ...runOptionsOf(flags), axes, fixed, outDir, workers: flags.workers, onProgress,
        onRunDone: catalogue.onRunDone });
      await catalogue.flush();
      const nFailed = result.rows.filter((r) => r.summary.status !== 'ok').length;
      process.stdout.write(`sweep of ${basename(notebook)}: ${result.rows.length} combinations, ${nFailed} failed, ${formatDuration(result.durationS)}\n`
        + `comparison: ${join(outDir, 'index.html')}\nresults: ${join(outDir, 'results.csv')}, ${join(outDir, 'results.json')}\n`);
      if (nFailed > 0) process.exitCode = 1;
    });
}
