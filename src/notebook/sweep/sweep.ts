/**
 * Parameter sweeps: every combination of a grid over one notebook, run with
 * bounded concurrency, collected into `results.csv`, `results.json` and a
 * comparison page. A failing combination is kept as failed; the sweep goes on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ownValue } from '../../core/dict';
import { NotebookError } from '../../core/errors';
import { OutputBatch } from '../../core/output';
import { toJsonValue } from '../api/display';
import type { JsonValue } from '../records/mime';
import { recordColumn, recordNames } from '../report/format';
import { renderSweepPage } from '../report/sweep-page';
import { ensureFreshBuild } from '../runner/build';
import type { Parameters, RunSummary } from '../records/run';
import type { GridAxis, SweepResult } from '../records/sweep';
import { checkParamName, checkParameter, emptyParameters, parseParamValue } from '../runner/parameters';
import { runPool, type PoolProgress } from '../runner/pool';
import { reportName, runToFolder, type FolderRunOptions } from '../runner/reports';

/**
 * Splits on commas that are not inside brackets, braces or quotes, so JSON
 * values survive: `a,[1,2],"x,y"` -> `a`, `[1,2]`, `"x,y"`.
 * @example splitTopLevel('a,[1,2]') // ['a', '[1,2]']
 */
export function splitTopLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  out.push(list.slice(start));
  return out;
}

/**
 * Parses `--grid name=v1,v2,...`; each value is read like `-p` (numbers,
 * booleans, null, JSON, else text).
 * @throws NotebookError for a missing `=`, an empty value or duplicate values; ConfigError for a
 *   name or value the parameter rule refuses (see `checkParameter`).
 * @example parseGridAxis('horizon=15,30') // { name: 'horizon', values: [15, 30] }
 */
export function parseGridAxis(spec: string): GridAxis {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new NotebookError(`--grid takes name=v1,v2,...; got ${JSON.stringify(spec)}`, { key: '--grid' });
  const name = spec.slice(0, eq).trim();
  checkParamName(name, undefined, '--grid');
  const raw = splitTopLevel(spec.slice(eq + 1));
  if (raw.some((v) => v.trim() === '')) throw new NotebookError(`--grid ${name} has an empty value`, { key: name, value: spec });
  const values = raw.map((text) => {
    const value = parseParamValue(text);
    checkParameter(name, value, '--grid', undefined, text);
    return value;
  });
  const seen = new Set(values.map((v) => JSON.stringify(v)));
  if (seen.size !== values.length) throw new NotebookError(`--grid ${name} lists a value twice`, { key: name, value: spec });
  return { name, values };
}

/**
 * Every combination, the first axis varying slowest.
 * @throws NotebookError when an axis is named twice.
 * @example expandGrid([{ name: 'a', values: [1, 2] }, { name: 'b', values: ['x'] }]) // [{ a: 1, b: 'x' }, { a: 2, b: 'x' }]
 */
export function expandGrid(axes: GridAxis[]): Parameters[] {
  const names = axes.map((a) => a.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new NotebookError(`--grid names parameter "${dup}" twice`, { key: dup });
  let combos: Parameters[] = [{}];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.name]: v })));
  return combos;
}

/** A sweep configuration file: the swept axes and the parameters fixed for every combination. */
export interface SweepConfig {
  axes: GridAxis[];
  fixed: Parameters;
}

/**
 * Parses a sweep configuration: a YAML mapping with `grid` (parameter name: list of values,
 * one axis each, in file order) and optional `parameters` (name: value, the same for every run).
 * @throws NotebookError naming the file and key for bad YAML, unknown keys, an axis that is not
 *   a non-empty list without repeats, a bad name, or a value JSON cannot hold.
 * @example parseSweepConfig('grid:\n  horizon: [15, 30]\nparameters:\n  seed: 1', 'x.yaml').axes[0] // { name: 'horizon', values: [15, 30] }
 */
export function parseSweepConfig(text: string, file: string): SweepConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new NotebookError(`sweep config is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { file });
  }
  const mapping = (v: unknown, key: string): Record<string, unknown> => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new NotebookError(`${key} must be a mapping of name: value`, { file, key });
    return v as Record<string, unknown>;
  };
  const top = mapping(doc, 'the sweep config');
  const unknown = Object.keys(top).filter((k) => k !== 'grid' && k !== 'parameters');
  if (unknown.length > 0) throw new NotebookError(`unknown key "${unknown[0]}" in the sweep config (use grid and parameters)`, { file, key: unknown[0] });
  const json = (v: unknown, key: string): JsonValue => {
    try {
      return toJsonValue(v);
    } catch (err) {
      throw new NotebookError(`${key}: ${(err as NotebookError).problem ?? String(err)}`, { file, key });
    }
  };
  const axes = Object.entries(mapping(top.grid, 'grid')).map(([name, values]): GridAxis => {
    checkParamName(name, file, 'the sweep config grid');
    if (!Array.isArray(values) || values.length === 0) throw new NotebookError(`grid.${name} must be a non-empty list of values`, { file, key: `grid.${name}` });
    const list = values.map((v, i) => {
      checkParameter(name, v, `the sweep config grid.${name}[${i}]`, file);
      return json(v, `grid.${name}[${i}]`);
    });
    if (new Set(list.map((v) => JSON.stringify(v))).size !== list.length) throw new NotebookError(`grid.${name} lists a value twice`, { file, key: `grid.${name}` });
    return { name, values: list };
  });
  const fixed = emptyParameters();
  for (const [name, value] of Object.entries(mapping(top.parameters, 'parameters'))) {
    checkParameter(name, value, 'the sweep config parameters', file);
    fixed[name] = json(value, `parameters.${name}`);
  }
  return { axes, fixed };
}

/**
 * Reads and parses a sweep configuration file (see {@link parseSweepConfig}).
 * @throws NotebookError when the file cannot be read or is not a valid sweep config.
 * @example readSweepConfig('configs/sweep-05.yaml').axes.map((a) => a.name) // ['lookbacks', 'temperatures', 'topPs']
 */
export function readSweepConfig(file: string): SweepConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new NotebookError('cannot read the sweep config', { file });
  }
  return parseSweepConfig(text, file);
}

/** Options of {@link runSweep}. */
export type SweepOptions = Omit<FolderRunOptions, 'name' | 'parameters' | 'onProgress' | 'outDir'> & {
  axes: GridAxis[];
  /** Parameters the same for every combination (-p, -f, -y). */
  fixed?: Parameters;
  outDir: string;
  /** Combinations run at once. Default 1. */
  workers?: number;
  onProgress?: (p: PoolProgress<Parameters, RunSummary>) => void;
};

/**
 * The output name of combination `index` (0-based) of `total`: its 1-based number, zero-padded,
 * and a slug of its values.
 * @example comboName(0, 12, { horizon: 15 }) // '01-horizon-15'
 */
export function comboName(index: number, total: number, combo: Parameters): string {
  return `${String(index + 1).padStart(String(total).length, '0')}-${slug(combo)}`;
}

function slug(combo: Parameters): string {
  return Object.entries(combo).map(([k, v]) => `${k}-${typeof v === 'string' ? v : JSON.stringify(v)}`).join('_')
    .replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
}

function csvField(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `results.csv`: one row per combination: index, status, duration, parameters, records, error, report.
 * @example sweepCsv(result).split('\n')[0] // 'index,status,duration_s,horizon,pUp,error,report'
 */
export function sweepCsv(result: SweepResult): string {
  const params = result.axes.map((a) => a.name);
  const records = recordNames(result.rows);
  const header = ['index', 'status', 'duration_s', ...params, ...records.map((k) => recordColumn(k, result.axes)), 'error', 'report'];
  const lines = result.rows.map((r) => [
    r.index, r.summary.status, Number.isFinite(r.summary.durationS) ? Number(r.summary.durationS.toFixed(3)) : '',
    ...params.map((p) => ownValue(r.combination, p)), ...records.map((k) => ownValue(r.summary.records, k)), r.summary.error ?? '', r.summary.html ?? '',
  ].map(csvField).join(','));
  return `${[header.map(csvField).join(','), ...lines].join('\n')}\n`;
}

/**
 * Runs every combination of `axes` (plus `fixed`) into `outDir/runs/`, then
 * writes `results.csv`, `results.json` and `index.html` (the comparison page).
 * @throws NotebookError when a parameter is both fixed and swept.
 * @example (await runSweep('notebooks/x.ipynb', { axes: [parseGridAxis('horizon=15,30')], outDir: 'out', workers: 2 })).rows.length // 2
 */
export async function runSweep(notebook: string, opts: SweepOptions): Promise<SweepResult> {
  const { axes, fixed = emptyParameters(), outDir, workers = 1, onProgress, ensureBuild = true, ...runOpts } = opts;
  for (const a of axes) {
    if (Object.hasOwn(fixed, a.name)) throw new NotebookError(`parameter "${a.name}" is both fixed and swept`, { file: notebook, key: a.name });
  }
  const combos = expandGrid(axes);
  // Once, before the workers: concurrent builds would rewrite dist/ under running kernels.
  if (ensureBuild) ensureFreshBuild();
  const t0 = performance.now();
  const summaries = await runPool(combos, workers, async (combo, i) => (await runToFolder(notebook, {
    ...runOpts,
    ensureBuild: false,
    outDir: join(outDir, 'runs'),
    name: comboName(i, combos.length, combo),
    parameters: { ...fixed, ...combo },
  })).summary, onProgress);
  const result: SweepResult = {
    notebook,
    axes,
    fixed,
    rows: summaries.map((summary, i) => ({ index: i + 1, combination: combos[i], summary })),
    outDir,
    durationS: (performance.now() - t0) / 1000,
  };
  writeSweepOutputs(result);
  return result;
}

/**
 * Writes a finished sweep's `results.csv`, `results.json` and comparison page `index.html`
 * into its folder (the same files whether the sweep ran here or on queue workers).
 * @example writeSweepOutputs(result) // out/results.csv, out/results.json, out/index.html
 */
export function writeSweepOutputs(result: SweepResult): void {
  const { notebook, axes, fixed, outDir } = result;
  // Written together: the three files of one sweep are renamed into place only once all three were written.
  const outputs = new OutputBatch();
  try {
    outputs.write(join(outDir, 'results.csv'), sweepCsv(result));
    outputs.write(join(outDir, 'results.json'), `${JSON.stringify({
      notebook, axes, fixed, durationS: result.durationS,
      rows: result.rows.map((r) => ({
        index: r.index, status: r.summary.status, durationS: r.summary.durationS, parameters: r.combination,
        records: r.summary.records, error: r.summary.error ?? null, report: r.summary.html ? `runs/${r.summary.html}` : null,
      })),
    }, null, 2)}\n`);
    outputs.write(join(outDir, 'index.html'), renderSweepPage(result, reportName(notebook)));
    outputs.commit();
  } finally {
    outputs.abort();
  }
}
