/**
 * The headless runner: Jupyter wire protocol client for tslab, notebook
 * execution with parameters, reports and sweeps. Loads zeromq; notebooks
 * import `../dist/notebook` instead.
 */
export { KernelClient, defaultKernelArgv } from './kernel';
export type { KernelOptions, ExecuteOptions, ExecuteResult, CellOutcome } from './kernel';
export { runNotebook, checkRuns, collectDeclarations, errorSummary } from './run';
export type { RunOptions, RunResult, RunInfo, RunFailure, RunProgress, CellRef } from './run';
export { readNotebook, parseNotebook, writeNotebook, cellSource } from './nbformat';
export type { Notebook, Cell } from './nbformat';
export type { Output } from './outputs';
export { parseParamValue, collectParameters, injectParameters, declaredParameters, checkParamName, checkParameter, paramNameProblem, tsLiteral } from './parameters';
export type { Parameters, ParameterSources } from './parameters';
export { runToFolder, runReports, writeIndex, readSummaries, reportName } from './reports';
export type { RunSummary, ReportsOptions } from './reports';
export { runSweep, parseGridAxis, expandGrid, sweepCsv, parseSweepConfig, readSweepConfig } from './sweep';
export type { GridAxis, SweepConfig, SweepResult, SweepRow } from './sweep';
export { runPool } from './pool';
export { ensureFreshBuild, isBuildStale, packageRoot } from './build';
export { installKernelSpec, projectJupyterPath, prefixJupyterPath, KERNEL_NAME } from './kernelspec';
export type { KernelSpecScope } from './kernelspec';
export { renderReport } from '../report/html';
