/**
 * The headless runner: the Jupyter wire-protocol client that drives a tslab
 * kernel, notebook execution with parameters, and runs of several notebooks
 * into a reports folder. Loads zeromq; notebooks import `../dist/notebook`
 * instead. Sweeps over a parameter grid are in `../sweep`, the records a run
 * writes in `../records`, the HTML rendering in `../report`.
 */
export { KernelClient, defaultKernelArgv } from './kernel';
export type { KernelOptions, ExecuteOptions, ExecuteResult, CellOutcome } from './kernelTypes';
export { runNotebook, checkRuns, collectDeclarations, errorSummary } from './run';
export type { RunOptions, RunResult, RunProgress } from './run';
export { parseParamValue, collectParameters, injectParameters, declaredParameters, checkParamName, checkParameter, paramNameProblem, tsLiteral } from './parameters';
export type { ParameterSources } from './parameters';
export { runToFolder, runReports, writeIndex, readSummaries, reportName } from './reports';
export type { ReportsOptions } from './reports';
export { runPool } from './pool';
export { ensureFreshBuild, isBuildStale, packageRoot } from './build';
export { installKernelSpec, projectJupyterPath, prefixJupyterPath, KERNEL_NAME } from './kernelspec';
export type { KernelSpecScope } from './kernelspec';
