/**
 * How commands add their rows to the run catalogue: after the work, never instead of it.
 * A catalogue that cannot be written is one warning line; the command's outputs and exit
 * status stand.
 */
import type { CatalogueRow } from '../catalogue/store';

/**
 * Appends `rows` to the catalogue (`QUANTBOOK_CATALOGUE`, default `reports/catalogue.duckdb`;
 * `off` skips it) and says where they went when not the usual place.
 * @example await addToCatalogue([row]) // stderr: nothing, or "quantbook: warning: ..."
 */
export async function addToCatalogue(rows: CatalogueRow[] | (() => CatalogueRow[])): Promise<void> {
  const { appendRuns, cataloguePath } = await import('../catalogue/store');
  const path = cataloguePath();
  if (path === null) return;
  try {
    const list = typeof rows === 'function' ? rows() : rows;
    if (list.length === 0) return;
    const res = await appendRuns(path, list);
    if (res.spooled) process.stderr.write(`quantbook: warning: the run catalogue ${path} stayed busy; ${list.length} row(s) wait in ${res.spooled} for the next writer\n`);
  } catch (err) {
    process.stderr.write(`quantbook: warning: not recorded in the run catalogue ${path}: ${(err as Error).message.split('\n')[0]}\n`);
  }
}

/**
 * The finite numbers at an object's top level: a command's key figures as catalogue records.
 * @example numbersOf({ sharpe: 1.2, label: 'x', n: NaN }) // { sharpe: 1.2 }
 */
export function numbersOf(o: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}
