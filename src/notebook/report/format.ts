/**
 * Number, size and duration formats shared by the report pages and the CLI.
 */
import { formatCell } from '../api/frame-table';
import type { JsonValue } from '../records/mime';
import type { CellRef } from '../records/run';
import type { GridAxis, SweepRow } from '../records/sweep';

/**
 * A JSON value in one short line (for tables).
 * @example formatJson(0.123456789) // '0.123457'; formatJson([1, 2]) // '[1,2]'
 */
export function formatJson(v: JsonValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return formatCell(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A recorded value laid out as a table by {@link recordTable}. */
export interface RecordTable {
  /** Header of the label column, or null when rows have no labels. */
  rowHeader: string | null;
  columns: string[];
  rows: Array<{ label: string | null; cells: Array<JsonValue | undefined> }>;
}

/**
 * Whether a JSON value is a scalar (null, boolean, number or string; `undefined`, a missing cell, counts too).
 * @example isScalar(0.5) // true; isScalar([1, 2]) // false
 */
export function isScalar(v: JsonValue | undefined): v is null | boolean | number | string | undefined {
  return v === null || typeof v !== 'object';
}

const isFlatObject = (v: JsonValue): v is { [k: string]: JsonValue } =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isScalar);

/**
 * The table a recorded value reads best as, or null when it is not tabular:
 * an object of flat objects (`{model: {sharpe, ...}, ...}`) gives one labelled row per key;
 * an array of flat objects one row per element; a flat object with several keys one row.
 * Columns are the union of the rows' keys in first-seen order; a missing cell is undefined.
 * @example recordTable({ a: { x: 1 }, b: { x: 2, y: 3 } }) // columns ['x', 'y'], rows a, b
 */
export function recordTable(v: JsonValue): RecordTable | null {
  if (v === null || typeof v !== 'object') return null;
  let rows: Array<{ label: string | null; value: { [k: string]: JsonValue } }>;
  if (Array.isArray(v)) {
    if (!v.length || !v.every((e) => isFlatObject(e))) return null;
    rows = v.map((e) => ({ label: null, value: e as { [k: string]: JsonValue } }));
  } else {
    const entries = Object.entries(v);
    if (entries.length && entries.every(([, e]) => isFlatObject(e) && Object.keys(e).length > 0)) {
      rows = entries.map(([k, e]) => ({ label: k, value: e as { [k: string]: JsonValue } }));
    } else if (entries.length > 1 && isFlatObject(v)) {
      rows = [{ label: null, value: v }];
    } else return null;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r.value)))];
  return {
    rowHeader: rows[0].label === null ? null : '',
    columns,
    rows: rows.map((r) => ({ label: r.label, cells: columns.map((c) => r.value[c]) })),
  };
}

/**
 * Bytes as `812 B`, `1.2 KiB`, `3.4 MiB`.
 * @example formatBytes(2048) // '2.0 KiB'
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Seconds as `0.42 s`, `12.3 s` or `3 min 05 s`.
 * @example formatDuration(185) // '3 min 05 s'
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
}

/**
 * An ISO-8601 UTC timestamp as `YYYY-MM-DD hh:mm:ss UTC` (fractional seconds dropped).
 * @example formatTime('2024-03-01T14:30:05.123Z') // '2024-03-01 14:30:05 UTC'
 */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/**
 * How messages and the report name a cell of the input notebook.
 * @example cellLabel(3) // 'cell 3'; cellLabel('injected-parameters') // 'the injected-parameters cell'
 */
export function cellLabel(cell: CellRef): string {
  return cell === 'injected-parameters' ? 'the injected-parameters cell' : `cell ${cell}`;
}

/**
 * The record names across rows, in first-seen order.
 * @example recordNames(result.rows) // ['pUp', 'expectedReturnBp']
 */
export function recordNames(rows: SweepRow[]): string[] {
  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.summary.records)) if (!names.includes(k)) names.push(k);
  return names;
}

/**
 * Column label of a record: its name, or `record.<name>` when a swept
 * parameter has the same name (notebooks often record their parameters).
 * @example recordColumn('horizon', [{ name: 'horizon', values: [15] }]) // 'record.horizon'
 */
export function recordColumn(name: string, axes: GridAxis[]): string {
  return axes.some((a) => a.name === name) ? `record.${name}` : name;
}
