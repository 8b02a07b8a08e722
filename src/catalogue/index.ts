/**
 * The run catalogue: every `run`, `report`, `sweep`, `eval` and `backtest` appends a row to one
 * DuckDB file; list, show, compare and query them (`quantbook runs ...`, or {@link runs} from a
 * notebook).
 */
import { cataloguePath, queryCatalogue, type QueryResult } from './store';

export {
  appendRuns,
  cataloguePath,
  catalogueRow,
  DEFAULT_CATALOGUE,
  getRuns,
  lastNotebookDurations,
  listRuns,
  newRunId,
  queryCatalogue,
  widenNames,
} from './store';
export type { AppendResult, CatalogueFile, CatalogueJson, CatalogueRow, ListOptions, QueryResult } from './store';
export { compareRows, comparisonHtml, comparisonText } from './compare';
export type { Comparison, ComparisonLine } from './compare';
export { commandRow, dataFiles, notebookRunRow } from './rows';

/** The catalogue from a notebook. */
export const runs = {
  /**
   * Runs SQL on the run catalogue (read-only): the `runs` table and the `runs_wide` view, with a
   * `"param.NAME"` / `"record.NAME"` column per parameter and record. The catalogue is
   * `QUANTBOOK_CATALOGUE` or `reports/catalogue.duckdb` under the project; from a notebook in
   * `notebooks/`, pass `path: '../reports/catalogue.duckdb'`.
   * @throws ConfigError for SQL DuckDB rejects.
   * @example (await runs.query(`SELECT "param.symbol", min("record.val_mae") FROM runs_wide GROUP BY 1`)).rows
   */
  async query(sql: string, opts: { path?: string } = {}): Promise<QueryResult> {
    const path = opts.path ?? cataloguePath() ?? '';
    return queryCatalogue(path, sql);
  },
};
