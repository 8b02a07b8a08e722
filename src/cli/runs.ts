/**
 * `quantbook runs list|show|compare|sql`: the run catalogue from the command line.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError } from '../core/errors';
import { writeFileAtomic } from '../core/output';
import type { CatalogueJson, QueryResult } from '../catalogue/store';

interface CatalogueFlag {
  catalogue?: string;
}

async function pathOf(flags: CatalogueFlag): Promise<string> {
  const { cataloguePath, DEFAULT_CATALOGUE } = await import('../catalogue/store');
  if (flags.catalogue) return resolve(flags.catalogue);
  return cataloguePath() ?? resolve(DEFAULT_CATALOGUE);
}

function cell(v: CatalogueJson | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A query result as an aligned text table (long cells cut to 48 characters). */
export function tableText(res: QueryResult, columns: string[] = res.columns): string {
  const cut = (s: string) => (s.length > 48 ? `${s.slice(0, 45)}...` : s);
  const rows = [columns, ...res.rows.map((r) => columns.map((c) => cut(cell(r[c]))))];
  const widths = columns.map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => r.map((x, j) => x.padEnd(widths[j])).join('  ').trimEnd()).join('\n');
}

/**
 * Attaches `runs` and its sub-commands.
 * @example registerRunsCommands(new Command()) // adds runs list|show|compare|sql
 */
export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('the run catalogue: every run, sweep, eval and backtest (reports/catalogue.duckdb)')
    .addHelpText('after', `
Every run, report, sweep, eval and backtest appends a row: id, time, command, notebook
and its sha256, parameters, records, status, duration, git commit, data files with their
sha256, and output paths. The catalogue is QUANTBOOK_CATALOGUE or reports/catalogue.duckdb
under the current folder (QUANTBOOK_CATALOGUE=off records nothing). In --where, --sort and
sql, param.NAME and record.NAME are the columns of the runs_wide view.`);
  const withCatalogue = (c: Command) => c.option('--catalogue <file>', 'the catalogue file (default: QUANTBOOK_CATALOGUE or reports/catalogue.duckdb)');

  withCatalogue(runs.command('list')
    .description('list runs, newest first')
    .option('--notebook <nb>', 'only runs of this notebook (path or file name)')
    .option('--where <sql>', "an SQL condition, e.g. \"param.symbol = 'ETH_BTC' AND status = 'ok'\"")
    .option('--sort <column>', 'a column, param.NAME or record.NAME, then asc (default) or desc, e.g. "record.val_mae"')
    .option('--limit <n>', 'at most this many rows', '50')
    .option('--json', 'print the rows as JSON'))
    .action(async (flags: CatalogueFlag & { notebook?: string; where?: string; sort?: string; limit: string; json?: boolean }) => {
      const { listRuns } = await import('../catalogue/store');
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ConfigError('--limit takes a whole number >= 1', { key: '--limit', value: flags.limit });
      const res = await listRuns(await pathOf(flags), { notebook: flags.notebook, where: flags.where, sort: flags.sort, limit });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(res.rows, null, 2)}\n`);
        return;
      }
      const extra = res.columns.filter((c) => (flags.sort && c === flags.sort.replace(/\s+(asc|desc)\s*$/i, '').trim()) || (flags.where ?? '').includes(c));
      const cols = ['id', 'time', 'command', 'notebook', 'status', 'duration_s', ...extra.filter((c) => !['id', 'time', 'command', 'notebook', 'status', 'duration_s'].includes(c))];
      const shown = { ...res, rows: res.rows.map((r) => ({ ...r, notebook: typeof r.notebook === 'string' ? r.notebook.split('/').pop()! : r.notebook })) };
      process.stdout.write(`${tableText(shown, cols)}\n${res.rows.length} run(s)\n`);
    });

  withCatalogue(runs.command('show <id>')
    .description('everything recorded about one run (an id or a unique prefix of one)'))
    .action(async (id: string, flags: CatalogueFlag) => {
      const { getRuns } = await import('../catalogue/store');
      const [row] = await getRuns(await pathOf(flags), [id]);
      process.stdout.write(`${JSON.stringify(row, null, 2)}\n`);
    });

  withCatalogue(runs.command('compare <ids...>')
    .description('parameters and records of several runs side by side, differences marked (*)')
    .option('--out <file.html>', 'also write the comparison as an HTML page'))
    .action(async (ids: string[], flags: CatalogueFlag & { out?: string }) => {
      if (ids.length < 2) throw new ConfigError('compare takes two or more run ids', { key: 'ids' });
      const { getRuns } = await import('../catalogue/store');
      const { compareRows, comparisonHtml, comparisonText } = await import('../catalogue/compare');
      const c = compareRows(await getRuns(await pathOf(flags), ids));
      process.stdout.write(`${comparisonText(c)}\n`);
      if (flags.out) {
        writeFileAtomic(flags.out, comparisonHtml(c));
        process.stdout.write(`comparison: ${flags.out}\n`);
      }
    });

  withCatalogue(runs.command('sql <query>')
    .description('any read-only SQL over the runs table and the runs_wide view')
    .option('--json', 'print the rows as JSON'))
    .action(async (query: string, flags: CatalogueFlag & { json?: boolean }) => {
      const { queryCatalogue } = await import('../catalogue/store');
      const res = await queryCatalogue(await pathOf(flags), query);
      process.stdout.write(flags.json ? `${JSON.stringify(res.rows, null, 2)}\n` : `${tableText(res)}\n`);
    });
}
