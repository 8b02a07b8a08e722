/**
 * Runs notebooks into a reports folder: per notebook `<name>.ipynb`,
 * `<name>.html` and a small `<name>.run.json` summary; `index.html` is rebuilt
 * from every summary in the folder, so runs from separate commands (report,
 * run) all appear and no shared file is ever edited in place.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { NotebookError } from '../../core/errors';
import { OutputBatch, safeOutputPath, writeFileAtomic } from '../../core/output';
import type { Parameters, RunSummary } from '../records/run';
import { renderIndexPage } from '../report/index-page';
import { ensureFreshBuild } from './build';
import { KernelPool, type EarlyKernel } from './kernelPool';
import { runPool, type PoolProgress } from './pool';
import { runNotebook, type RunOptions, type RunResult } from './run';

/** Options of {@link runToFolder}. */
export type FolderRunOptions = Omit<RunOptions, 'outputNotebook' | 'outputHtml'> & {
  outDir: string;
  /** Base name of the outputs; default the notebook's file name without `.ipynb`. */
  name?: string;
  /** Called once per run after its summary is written (the run catalogue's hook). */
  onRunDone?: (summary: RunSummary, result: RunResult | undefined) => void;
};

/**
 * The base name for a notebook's outputs.
 * @example reportName('notebooks/01-kelly.ipynb') // '01-kelly'
 */
export function reportName(notebook: string): string {
  return basename(notebook).replace(/\.ipynb$/i, '');
}

/**
 * The summary of a run that executed (its outputs are `<name>.html` and `<name>.ipynb`).
 * @example summaryOfResult({ name: 'a', notebook: 'nb/a.ipynb', parameters: {} }, result).status // 'ok'
 */
export function summaryOfResult(base: { name: string; notebook: string; parameters: Parameters }, result: RunResult): RunSummary {
  return {
    ...base,
    status: result.info.status,
    startTime: result.info.startTime,
    durationS: result.info.durationS,
    records: result.info.records,
    html: `${base.name}.html`,
    ipynb: `${base.name}.ipynb`,
    ...(result.error ? { error: result.error.message } : {}),
    ...(result.info.warnings.length ? { warnings: result.info.warnings } : {}),
  };
}

/**
 * Writes a run's one-line summary `<name>.run.json` into `outDir` (what the index reads).
 * @example writeSummary('reports', summary) // reports/a.run.json
 */
export function writeSummary(outDir: string, summary: RunSummary): void {
  writeFileAtomic(join(outDir, `${summary.name}.run.json`), summaryText(summary));
}

/**
 * The text of a run summary file `<name>.run.json`: the summary as JSON, indented 2, with a final newline.
 * @example summaryText(summary).endsWith('}\n') // true
 */
export function summaryText(summary: RunSummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}

/**
 * Runs one notebook into `outDir`. A notebook that cannot even start (invalid
 * file, missing kernel) is summarised as failed instead of throwing, so a
 * batch goes on.
 * @example (await runToFolder('notebooks/x.ipynb', { outDir: 'reports' })).summary.status // 'ok'
 */
export async function runToFolder(notebook: string, opts: FolderRunOptions): Promise<{ summary: RunSummary; result?: RunResult; error?: NotebookError }> {
  const name = opts.name ?? reportName(notebook);
  const files = outputFiles(opts.outDir, name, opts.name === undefined ? `the file name of ${notebook}` : '--name');
  const startTime = new Date();
  const base = { name, notebook, parameters: opts.parameters ?? {} };
  let summary: RunSummary;
  let result: RunResult | undefined;
  let error: NotebookError | undefined;
  // The notebook, its report and its summary are renamed into place together, after all three
  // were written: a failed write leaves the previous run's files as they were.
  const outputs = new OutputBatch();
  try {
    try {
      result = await runNotebook(notebook, { ...opts, outputs, outputNotebook: files.ipynb, outputHtml: files.html });
      error = result.error;
      summary = summaryOfResult(base, result);
    } catch (err) {
      if (!(err instanceof NotebookError)) throw err;
      outputs.abort(); // a summary without html/ipynb must not sit beside a new notebook
      error = err;
      summary = { ...base, status: 'failed', startTime: startTime.toISOString(), durationS: (Date.now() - startTime.getTime()) / 1000, records: {}, error: err.message };
    }
    outputs.write(files.summary, summaryText(summary));
    outputs.commit();
  } finally {
    outputs.abort();
  }
  opts.onRunDone?.(summary, result);
  return { summary, result, error };
}

/**
 * The three files of run `name` in `outDir`: `<name>.ipynb`, `<name>.html`, `<name>.run.json`.
 * @param flag - Where the name came from, named in the error (`--name`).
 * @throws ConfigError when `name` would put a file outside `outDir` (`../x`, `/abs`, `a/b`, NUL).
 * @example outputFiles('reports', '01-data', '--name').html // 'reports/01-data.html'
 */
export function outputFiles(outDir: string, name: string, flag: string): { ipynb: string; html: string; summary: string } {
  return {
    ipynb: safeOutputPath(outDir, name, flag, { suffix: '.ipynb' }),
    html: safeOutputPath(outDir, name, flag, { suffix: '.html' }),
    summary: safeOutputPath(outDir, name, flag, { suffix: '.run.json' }),
  };
}

/**
 * Every run summary in `outDir`, by name. Unreadable summaries are reported, not skipped.
 * @example readSummaries('reports').map((s) => s.status) // ['ok', 'failed']
 */
export function readSummaries(outDir: string): RunSummary[] {
  let files: string[];
  try {
    files = readdirSync(outDir).filter((f) => f.endsWith('.run.json')).sort();
  } catch {
    return [];
  }
  return files.map((f) => {
    try {
      return JSON.parse(readFileSync(join(outDir, f), 'utf8')) as RunSummary;
    } catch (err) {
      return {
        name: f.replace(/\.run\.json$/, ''), notebook: f, status: 'failed', startTime: '', durationS: NaN, parameters: {}, records: {},
        error: `unreadable run summary ${f}: ${(err as Error).message}`,
      } satisfies RunSummary;
    }
  });
}

/**
 * Rebuilds `<outDir>/index.html` from the summaries there. @returns its path.
 * @example writeIndex('reports') // 'reports/index.html'
 */
export function writeIndex(outDir: string): string {
  const path = join(outDir, 'index.html');
  writeFileAtomic(path, renderIndexPage(readSummaries(outDir)));
  return path;
}

/**
 * How long each notebook's last passing run in `outDir` took (`<name>.run.json`), by resolved
 * notebook path: a hint for {@link longestFirst}. Failed runs and unreadable summaries give none.
 * @example previousDurations('reports').get(resolve('notebooks/05-sweep.ipynb')) // 87.8
 */
export function previousDurations(outDir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of readSummaries(outDir)) {
    if (s.status === 'ok' && Number.isFinite(s.durationS) && s.durationS >= 0) out.set(resolve(s.notebook), s.durationS);
  }
  return out;
}

/**
 * The order to start notebooks in when several run at once: notebooks with no expected duration
 * first, in the order given (one of them may be long), then the rest longest first (ties in the
 * order given). Longest first keeps a long notebook from starting last while the other workers
 * idle: with 2 workers the batch ends near half the summed time instead of after the last long one.
 * @param expectedS - Expected seconds by resolved notebook path (e.g. {@link previousDurations}).
 * @returns indices into `notebooks`, each once.
 * @example longestFirst(['a', 'b', 'c'], new Map([[resolve('a'), 5], [resolve('c'), 60]])) // [1, 2, 0]
 */
export function longestFirst(notebooks: readonly string[], expectedS: ReadonlyMap<string, number>): number[] {
  const expected = notebooks.map((nb) => expectedS.get(resolve(nb)));
  const unknown = notebooks.flatMap((_, i) => (expected[i] === undefined ? [i] : []));
  const known = notebooks.flatMap((_, i) => (expected[i] === undefined ? [] : [i])).sort((a, b) => expected[b]! - expected[a]! || a - b);
  return [...unknown, ...known];
}

/** Options of {@link runReports}. */
export type ReportsOptions = Omit<FolderRunOptions, 'name' | 'onProgress'> & {
  /** Notebooks run at once (each is a kernel process, in its own fresh kernel). Default 1. */
  workers?: number;
  /**
   * Kernels started ahead of the running notebooks (each run still gets a fresh one). Default
   * `workers`, one per worker: with fewer, workers ending close together wait for a start-up
   * (tslab takes seconds). 0 starts each when its run begins.
   */
  prestart?: number;
  /**
   * Expected seconds of each notebook (by resolved path), e.g. from earlier runs: notebooks start
   * longest first ({@link longestFirst}). Default: none, the order given. Outputs do not depend on it.
   */
  expectedS?: ReadonlyMap<string, number>;
  /** Kernels started before the order was known (`startEarlyKernels` in kernelPool.ts), handed to the first runs of their folder. */
  early?: readonly EarlyKernel[];
  /** Progress in the order the notebooks start (`index` counts starts, `task` is the notebook). */
  onProgress?: (p: PoolProgress<string, RunSummary>) => void;
};

/**
 * Runs every notebook into `outDir` (one failing does not stop the others), `workers` at once,
 * each in a fresh kernel started ahead of need, and rebuilds the index.
 * @returns the summaries, in the order given (whatever order they ran in).
 * @example (await runReports(['notebooks/a.ipynb'], { outDir: 'reports' }))[0].html // 'a.html'
 */
export async function runReports(notebooks: string[], opts: ReportsOptions): Promise<RunSummary[]> {
  const { workers = 1, prestart = workers, expectedS, early, onProgress, ensureBuild = true, ...runOpts } = opts;
  // Once, before the workers: concurrent builds would rewrite dist/ under running kernels.
  if (ensureBuild) ensureFreshBuild();
  const order = expectedS ? longestFirst(notebooks, expectedS) : notebooks.map((_, i) => i);
  const queue = order.map((i) => notebooks[i]);
  // Kernels start one notebook ahead (kernelPool.ts): each run still gets a fresh kernel.
  const { kernelArgv, startTimeoutMs, parameters } = runOpts;
  const pool = new KernelPool(queue, { kernelArgv, startTimeoutMs, ahead: prestart, early, parameters });
  // A finished run's kernel exits while the next notebook runs (tslab with native modules loaded
  // can take seconds to exit); all are awaited before returning, the first failure rethrown.
  const shutdowns: Promise<void>[] = [];
  let shutdownError: unknown;
  const onShutdown = (done: Promise<void>): void => void shutdowns.push(done.catch((err: unknown) => void (shutdownError ??= err)));
  let ran: RunSummary[];
  try {
    ran = await runPool(queue, workers,
      async (nb, i) => (await runToFolder(nb, { ...runOpts, ensureBuild: false, kernel: pool.take(i), onShutdown })).summary, onProgress);
  } finally {
    await pool.close();
    await Promise.all(shutdowns);
  }
  if (pool.warmUpTimedOut > 0) {
    // Counted and said, never silent: the runs themselves are unaffected.
    process.stderr.write(`quantbook report: ${pool.warmUpTimedOut} kernel warm-up(s) unanswered within 60 s; ${pool.warmUpReplaced} silent kernel(s) replaced by fresh ones\n`);
  }
  if (shutdownError !== undefined) throw shutdownError;
  writeIndex(opts.outDir);
  const summaries = new Array<RunSummary>(notebooks.length);
  order.forEach((given, k) => void (summaries[given] = ran[k]));
  return summaries;
}
