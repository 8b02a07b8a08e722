/**
 * `runNotebook`: executes a notebook headless in a fresh tslab kernel started
 * in the notebook's folder (as JupyterLab does), with papermill's parameter,
 * failure and metadata conventions, and writes the executed `.ipynb` and its
 * HTML report.
 */
import { dirname, resolve } from 'node:path';
import { NotebookError } from '../../core/errors';
import { VERSION } from '../../core/version';
import { OutputBatch } from '../../core/output';
import { PROVENANCE_MIME, RECORD_MIME, type JsonValue, type ProvenancePayload, type RecordPayload } from '../records/mime';
import { cellLabel } from '../report/format';
import type { ReportOptions } from '../report/html';
import { ensureFreshBuild } from './build';
import type { CellRef, Parameters, RunFailure, RunInfo } from '../records/run';
import { gitState, hostDescription } from './environment';
import { KernelClient } from './kernel';
import type { CellOutcome, KernelSnapshotUse } from './kernelTypes';
import { markCompiledRun, type CompileCacheReport } from './compileStore';
import { notebookRunFingerprint } from './kernelPool';
import { kernelCompileCacheDir } from './preloads';
import { cellSource, newCellId, notebookText, readNotebook, type Cell, type Notebook } from '../records/nbformat';
import { injectParameters } from './parameters';

/** A cell starting or ending, for progress lines. */
export type RunProgress =
  | { kind: 'kernel-ready'; startupMs: number }
  | { kind: 'cell-start'; cell: CellRef; position: number; total: number }
  | { kind: 'cell-end'; cell: CellRef; position: number; total: number; durationMs: number; ok: boolean };

/** Options of {@link runNotebook}. */
export interface RunOptions {
  parameters?: Parameters;
  /** Where to write the executed notebook; nothing is written when absent. */
  outputNotebook?: string;
  /** Where to write the HTML report; nothing is written when absent. */
  outputHtml?: string;
  /**
   * Stage the notebook and the report in this batch (the caller commits it with its own files);
   * default: written here, both renamed into place only once both were written.
   */
  outputs?: OutputBatch;
  /** Per-cell limit in milliseconds: the cell is interrupted, then the kernel killed. 0 = none (default). */
  cellTimeoutMs?: number;
  /** Kernel start-up limit in milliseconds. Default 60 000. */
  startTimeoutMs?: number;
  /** argv starting the kernel (`{connection_file}` is replaced). Default: the installed tslab. */
  kernelArgv?: string[];
  /** Rebuild dist/ first when sources are newer (source checkouts only). Default true. */
  ensureBuild?: boolean;
  onProgress?: (event: RunProgress) => void;
  /** How the HTML report is rendered. */
  report?: ReportOptions;
  /**
   * A kernel already starting for this notebook (in its folder), e.g. from a `KernelPool`;
   * the run owns it and shuts it down, also when it fails before any cell. Default: started here.
   */
  kernel?: Promise<KernelClient>;
  /**
   * Hands over the kernel's shutdown instead of waiting for it: the run returns once its outputs
   * are written and the caller awaits `done` (a batch starts its next notebook meanwhile; a
   * kernel given no grace to exit waits seconds). Default: the run waits for the shutdown.
   */
  onShutdown?: (done: Promise<void>) => void;
}

/** The outcome of {@link runNotebook}: `status` and `failure` say whether it passed. */
export interface RunResult {
  info: RunInfo;
  /** The executed notebook (also written to `outputNotebook`). */
  notebook: Notebook;
  /** The failure as a NotebookError naming notebook and cell, when the run failed. */
  error?: NotebookError;
}

const BANNER_STYLE = 'color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;';

function bannerCell(html: string, nb: Notebook): Cell {
  return {
    cell_type: 'markdown',
    ...(nb.nbformat_minor >= 5 ? { id: newCellId() } : {}),
    metadata: { tags: ['papermill-error-cell-tag'] },
    source: html,
  };
}

/**
 * The line of an error text a reader wants first (the thrown error or the TypeScript diagnostic).
 * @example errorSummary('evalmachine:3\nthrow x\n^\n\nRangeError: bad\n    at f') // 'RangeError: bad'
 */
export function errorSummary(errorText: string): string {
  const lines = errorText.split('\n').map((l) => l.trim()).filter(Boolean);
  const thrown = lines.find((l) => /^([A-Z]\w*(Error|Exception)|Error)(\s*\[\w+\])?:/.test(l) || /^Uncaught\b/.test(l));
  const diagnostic = lines.find((l) => /^\d+:\d+ - /.test(l));
  return thrown ?? diagnostic ?? lines[lines.length - 1] ?? 'no error text';
}

function failureMessage(outcome: Exclude<CellOutcome, { kind: 'ok' }>, label: string): string {
  switch (outcome.kind) {
    case 'error':
      return `${label} failed: ${errorSummary(outcome.errorText)}`;
    case 'timeout':
      return `${label} timed out after ${outcome.timeoutMs / 1000} s; ${outcome.stoppedBy === 'interrupt' ? 'interrupted' : 'the kernel was killed'}`;
    case 'kernel-died':
      return `the kernel died while running ${label} (exit code ${outcome.exitCode}, signal ${outcome.signal})`;
  }
}

/**
 * Every `record`ed value (last one of a name wins) and provenance declaration, in output order.
 * @example collectDeclarations(readNotebook('reports/x.ipynb').cells).records // { pUp: 0.53, ... }
 */
export function collectDeclarations(cells: Cell[]): { records: Record<string, JsonValue>; provenance: ProvenancePayload[] } {
  const records: Record<string, JsonValue> = Object.create(null); // record names are user text: "__proto__" is a name like any other
  const provenance: ProvenancePayload[] = [];
  for (const cell of cells) {
    for (const out of cell.outputs ?? []) {
      if (out.output_type !== 'display_data' && out.output_type !== 'execute_result') continue;
      const rec = out.data[RECORD_MIME] as RecordPayload | undefined;
      if (rec && typeof rec.name === 'string') records[rec.name] = rec.value;
      const prov = out.data[PROVENANCE_MIME] as ProvenancePayload | undefined;
      if (prov) provenance.push(prov);
    }
  }
  return { records, provenance };
}

/** Runs one code cell, records its outputs and papermill timing metadata on it, and says how it ended and how long it took. */
async function runCell(kernel: KernelClient, cell: Cell, timeoutMs: number | undefined): Promise<{ outcome: CellOutcome; durationMs: number }> {
  const started = new Date();
  let outcome: CellOutcome;
  let durationMs = 0;
  if (!kernel.isDead && !(await kernel.heartbeat(5000))) {
    outcome = { kind: 'kernel-died', exitCode: null, signal: null, errorText: 'the kernel stopped answering heartbeats' };
  } else {
    const r = await kernel.execute(cellSource(cell), { timeoutMs });
    outcome = r.outcome;
    durationMs = r.durationMs;
    cell.outputs = r.outputs;
    cell.execution_count = r.executionCount;
  }
  cell.metadata.papermill = {
    status: outcome.kind === 'ok' ? 'completed' : 'failed',
    start_time: started.toISOString(),
    end_time: new Date(started.getTime() + durationMs).toISOString(),
    duration: durationMs / 1000,
    exception: outcome.kind !== 'ok',
  };
  return { outcome, durationMs };
}

/** papermill's marking of a failed run: a banner cell at the top linking to an anchor cell just before the failure. */
function addFailureBanners(nb: Notebook, failure: RunFailure): void {
  const count = nb.cells[failure.executedIndex].execution_count;
  const target = count === null || count === undefined ? cellLabel(failure.cell) : `In [${count}]`;
  nb.cells.splice(failure.executedIndex, 0, bannerCell(
    `<span id="papermill-error-cell" style="${BANNER_STYLE}">Execution using quantbook encountered an exception here and stopped:</span>`, nb));
  nb.cells.unshift(bannerCell(`<span style="${BANNER_STYLE}">An Exception was encountered at '<a href="#papermill-error-cell">${target}</a>'.</span>`, nb));
  failure.executedIndex += 2;
}

/**
 * Checks runs before starting a kernel: the notebook reads as nbformat 4 and
 * each parameter set can be injected.
 * @returns the distinct injection warnings (unknown names, no parameters cell).
 * @throws NotebookError naming the notebook, cell and parameter at fault.
 * @example checkRuns('notebooks/00-pipeline-sample.ipynb', [{ nPath: 5 }]) // ['parameter "nPath" is not declared in the parameters cell (cell 2)']
 */
export function checkRuns(path: string, parameterSets: Parameters[] = [{}]): string[] {
  const nb = readNotebook(path);
  return [...new Set(parameterSets.flatMap((p) => injectParameters(nb, p, path).warnings))];
}

/**
 * Runs a notebook headless and returns its outcome; a failing cell does not
 * throw: it stops the run, is marked papermill's way (a banner at the top
 * linking to it, `metadata.papermill.status = "failed"`) and is reported in
 * `result.error`. The executed notebook and HTML are written either way.
 * @throws NotebookError before any cell runs: unreadable or invalid notebook,
 * bad parameter, missing kernel, failed library build.
 * @example (await runNotebook('notebooks/00-pipeline-sample.ipynb', { parameters: { nPaths: 50 } })).info.records.nPaths // 50
 */
export async function runNotebook(path: string, opts: RunOptions = {}): Promise<RunResult> {
  const params = opts.parameters ?? {};
  const cwd = dirname(resolve(path));
  const startTime = new Date();
  const t0 = performance.now();
  // --- issue 20: a kernel may arrive already starting (KernelPool, `quantbook run`); a notebook
  // that fails to read or take its parameters shuts it down again. Otherwise started here, as before.
  let injection: ReturnType<typeof injectParameters>;
  try {
    injection = injectParameters(readNotebook(path), params, path);
    if (opts.ensureBuild ?? true) ensureFreshBuild();
  } catch (err) {
    await opts.kernel?.then((k) => k.shutdown(), () => undefined);
    throw err;
  }
  const starting = opts.kernel ?? KernelClient.start({ cwd, argv: opts.kernelArgv, startTimeoutMs: opts.startTimeoutMs, notebook: path });
  // --- end of the issue-20 change
  const nb = injection.notebook;
  // The kernel takes seconds to start (tslab builds a TypeScript program):
  // meanwhile, on our side, load the report renderer and ask git.
  const renderer = opts.outputHtml ? import('../report/html') : undefined;
  renderer?.catch(() => undefined);
  // plotly.js (3.5 MB, read once per process) is embedded in reports with figures: read it now, not
  // after the last cell (about 0.1 s at the end of a run). A read that fails fails again at rendering.
  if (opts.outputHtml) import('../../plot/html').then((m) => void m.plotlyJs()).catch(() => undefined);
  const git = gitState(cwd);
  const kernel = await starting;
  const readyAfterS = (performance.now() - t0) / 1000;
  opts.onProgress?.({ kind: 'kernel-ready', startupMs: kernel.startupMs });

  // Input-notebook index of each executed cell, for error locations.
  const sourceIndex = (i: number): CellRef =>
    i === injection.injectedIndex ? 'injected-parameters' : injection.injectedIndex >= 0 && i > injection.injectedIndex ? i - 1 : i;
  const codeCells = nb.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.cell_type === 'code');
  let failure: RunFailure | undefined;
  try {
    for (const [position, { c: cell, i }] of codeCells.entries()) {
      cell.outputs = [];
      cell.execution_count = null;
      if (failure) {
        cell.metadata.papermill = { status: 'pending', start_time: null, end_time: null, duration: null, exception: null };
        continue;
      }
      if (cellSource(cell).trim() === '') continue;
      const ref = sourceIndex(i);
      opts.onProgress?.({ kind: 'cell-start', cell: ref, position, total: codeCells.length });
      const { outcome, durationMs } = await runCell(kernel, cell, opts.cellTimeoutMs);
      opts.onProgress?.({ kind: 'cell-end', cell: ref, position, total: codeCells.length, durationMs, ok: outcome.kind === 'ok' });
      if (outcome.kind !== 'ok') {
        failure = { cell: ref, executedIndex: i, kind: outcome.kind, message: failureMessage(outcome, cellLabel(ref)), errorText: outcome.errorText };
      }
    }
  } catch (err) {
    await kernel.shutdown();
    throw err;
  }
  // Read before the shutdown: the kernel's counts live in its connection folder.
  const compile = kernel.compileCache();
  if (compile && opts.kernelArgv === undefined) {
    const fingerprint = notebookRunFingerprint(path, params);
    if (fingerprint !== undefined) markCompiledRun(kernelCompileCacheDir(), fingerprint, compile, codeCells.length);
  }
  // The kernel shuts down while we write the outputs.
  const shutdown = kernel.shutdown();

  const endTime = new Date();
  const codeCacheFailed = (kernel.codeCache?.corrupt ?? 0) + (kernel.codeCache?.rejected ?? 0) > 0;
  const { records, provenance } = collectDeclarations(nb.cells);
  if (failure) addFailureBanners(nb, failure);
  const info: RunInfo = {
    status: failure ? 'failed' : 'ok',
    notebook: path,
    parameters: params,
    startTime: startTime.toISOString(),
    endTime: endTime.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    kernel: {
      startupS: kernel.startupMs / 1000,
      cwd,
      implementation: String(kernel.kernelInfo.implementation ?? 'unknown'),
      startTime: new Date(kernel.spawnedAt).toISOString(),
      readyAfterS,
      ...(kernel.silentStarts > 0 ? { silentStarts: kernel.silentStarts } : {}),
      ...(codeCacheFailed ? { codeCache: kernel.codeCache } : {}),
      ...(kernel.snapshot ? { snapshot: kernel.snapshot } : {}),
      ...(compile ? { compileCache: compile } : {}),
    },
    libraryVersion: VERSION,
    git,
    host: hostDescription(),
    records,
    provenance,
    warnings: [
      ...injection.warnings,
      ...(kernel.rejectedMessages > 0 ? [`${kernel.rejectedMessages} kernel messages had a bad signature and were ignored`] : []),
      ...snapshotWarnings(kernel.snapshot),
      ...compileCacheWarnings(compile),
      ...(codeCacheFailed ? [`kernel code cache: ${kernel.codeCache?.corrupt ?? 0} corrupt and ${kernel.codeCache?.rejected ?? 0} refused cache file(s), compiled from source and replaced`] : []),
    ],
    ...(failure ? { failure } : {}),
  };
  nb.metadata.papermill = {
    parameters: params,
    input_path: path,
    output_path: opts.outputNotebook ?? null,
    start_time: info.startTime,
    end_time: info.endTime,
    duration: info.durationS,
    exception: Boolean(failure),
  };
  nb.metadata.quantbook = info;
  const outputs = opts.outputs ?? new OutputBatch();
  try {
    if (opts.outputNotebook) outputs.write(opts.outputNotebook, notebookText(nb));
    if (opts.outputHtml && renderer) outputs.write(opts.outputHtml, (await renderer).renderReport(nb, opts.report));
    if (!opts.outputs) outputs.commit();
  } finally {
    if (!opts.outputs) outputs.abort();
    if (opts.onShutdown) opts.onShutdown(shutdown);
    else await shutdown;
  }
  return { info, notebook: nb, ...(failure ? { error: new NotebookError(failure.message, { file: path, cell: failure.cell }) } : {}) };
}

/** The run's warnings about the kernel's startup snapshot: a blob Node refused, one of the wrong size, or none possible here. */
function snapshotWarnings(use: KernelSnapshotUse | undefined): string[] {
  if (use?.state === 'refused') return ['kernel snapshot: the kernel exited at start-up from it; removed, the kernel started without it (and later kernels until a file it holds changes)'];
  if (use?.state === 'corrupt') return ['kernel snapshot: a blob of the wrong size was removed; the kernel started without it (being rebuilt in the background)'];
  if (use?.state === 'unavailable') return [`kernel snapshot: unavailable, the kernel started without it (${use.reason ?? 'no reason given'})`];
  return [];
}

/** The run's warnings about the kernel's compile cache: corrupt entries (compiled and replaced), entries not stored, or the cache off and why. */
function compileCacheWarnings(report: CompileCacheReport | undefined): string[] {
  if (report === undefined) return [];
  return [
    ...(report.corrupt > 0 ? [`kernel compile cache: ${report.corrupt} corrupt entr${report.corrupt === 1 ? 'y' : 'ies'}, compiled from source and replaced`] : []),
    ...(report.unwritten > 0 ? [`kernel compile cache: ${report.unwritten} compiled cell(s) could not be stored (the next run compiles them again)`] : []),
    ...(report.off !== undefined ? [`kernel compile cache: off in this kernel, every cell compiled (${report.off})`] : []),
  ];
}
