/**
 * Building catalogue rows from what commands know: a notebook run's summary and result, or a
 * command's flags, its data path and the files it wrote.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadableFiles } from '../data/load/listing';
import { sha256File } from '../notebook/api/provenance';
import type { RunSummary } from '../notebook/records/run';
import type { RunResult } from '../notebook/runner/run';
import { gitState } from '../notebook/runner/environment';
import { catalogueRow, type CatalogueFile, type CatalogueJson, type CatalogueRow } from './store';

/**
 * The bar files a data path loads (a file, or the loadable files of a folder, as the loaders
 * list them), each with its sha256. A path that does not exist gives no files.
 * @example dataFiles('../shared/data/real/crypto-5m').length // 8
 */
export function dataFiles(path: string | undefined): CatalogueFile[] {
  if (!path) return [];
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return [];
  }
  const files = isDir ? loadableFiles(path).map((f) => join(path, f)) : [path];
  return files.map((f) => ({ path: resolve(f), ...sha256File(f) }));
}

function jsonRecord(v: object): Record<string, CatalogueJson> {
  return JSON.parse(JSON.stringify(v)) as Record<string, CatalogueJson>;
}

/**
 * The row of one notebook run (`run`, `report` or one combination of a `sweep`).
 * @param outDir - the folder the run wrote into (its outputs are listed from the summary).
 * @example notebookRunRow('run', process.argv, summary, result, 'reports', null)
 */
export function notebookRunRow(
  command: string,
  argv: string[],
  summary: RunSummary,
  result: RunResult | undefined,
  outDir: string,
  sweepId: string | null,
): CatalogueRow {
  let notebookSha256: string | null = null;
  try {
    notebookSha256 = sha256File(summary.notebook).sha256;
  } catch {
    notebookSha256 = null;
  }
  const git = result?.info.git ?? gitState(dirname(resolve(summary.notebook)));
  const data = (result?.info.provenance ?? []).flatMap((p) => (p.kind === 'file' && p.role === 'data' ? [{ path: p.resolvedPath, sha256: p.sha256, bytes: p.bytes }] : []));
  const outputs = [summary.html, summary.ipynb, `${summary.name}.run.json`].filter((x): x is string => Boolean(x)).map((f) => resolve(outDir, f));
  return catalogueRow({
    time: summary.startTime || new Date().toISOString(),
    command,
    argv,
    notebook: resolve(summary.notebook),
    notebookSha256,
    parameters: jsonRecord(summary.parameters),
    records: jsonRecord(summary.records),
    status: summary.status,
    error: summary.error ?? null,
    durationS: summary.durationS,
    gitCommit: git?.commit ?? null,
    gitDirty: git?.dirty ?? null,
    data,
    outputs,
    sweepId,
  });
}

/**
 * The row of a command that is not a notebook (`eval`, `backtest`): its flags as parameters,
 * its key numbers as records, the data it read and the files it wrote.
 * @example commandRow({ command: 'eval', argv, started, parameters: flags, records, dataPath: flags.data, outputs: [] })
 */
export function commandRow(part: {
  command: string;
  argv: string[];
  started: Date;
  parameters: object;
  records: object;
  status?: 'ok' | 'failed';
  error?: string | null;
  dataPath?: string;
  extraData?: Array<string | undefined>;
  outputs: string[];
}): CatalogueRow {
  const git = gitState(process.cwd());
  const data = [part.dataPath, ...(part.extraData ?? [])].flatMap((p) => dataFiles(p));
  return catalogueRow({
    time: part.started.toISOString(),
    command: part.command,
    argv: part.argv,
    notebook: null,
    notebookSha256: null,
    parameters: jsonRecord(part.parameters),
    records: jsonRecord(part.records),
    status: part.status ?? 'ok',
    error: part.error ?? null,
    durationS: (Date.now() - part.started.getTime()) / 1000,
    gitCommit: git?.commit ?? null,
    gitDirty: git?.dirty ?? null,
    data,
    outputs: part.outputs.map((o) => resolve(o)),
    sweepId: null,
  });
}
