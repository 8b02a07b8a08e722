/**
 * The run catalogue: one DuckDB file that every `run`, `report`, `sweep`, `eval` and `backtest`
 * appends a row to, so runs made weeks apart can be listed, filtered, compared and queried.
 *
 * Concurrency: DuckDB lets one process at a time open a file for writing, and none read while
 * it does. Writers therefore take a lock file (`<catalogue>.lock`, created with O_EXCL; a lock
 * whose process is gone is taken over), open the database for the few milliseconds of an
 * insert, and close it. A writer that still cannot get in after `waitMs` (a reader holding the
 * file, say) spools its rows to `<catalogue>.pending/<id>.json` (written atomically) and says
 * so; the next writer ingests the spool first. No row is lost and none is written twice (ids
 * are unique; a row already present is skipped).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors';
import { VERSION } from '../core/version';
import { writeFileAtomic } from '../core/output';
import { pidAlive } from '../core/process';

/** A JSON value as stored in the catalogue's JSON columns. */
export type CatalogueJson = null | boolean | number | string | CatalogueJson[] | { [key: string]: CatalogueJson };

/** A data file a run read, by content. */
export interface CatalogueFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** One row of the catalogue: what one command (or one notebook run of it) did. */
export interface CatalogueRow {
  /** Unique id, time-sortable: `r20261202T081500Z-3f9a1c`. */
  id: string;
  /** Start time, ISO 8601 UTC. */
  time: string;
  /** `run`, `report`, `sweep`, `eval` or `backtest`. */
  command: string;
  /** The whole command line (credentials never appear in quantbook's arguments). */
  argv: string[];
  notebook: string | null;
  notebookSha256: string | null;
  parameters: Record<string, CatalogueJson>;
  records: Record<string, CatalogueJson>;
  status: 'ok' | 'failed';
  /** One line, when failed. */
  error: string | null;
  durationS: number;
  gitCommit: string | null;
  gitDirty: boolean | null;
  data: CatalogueFile[];
  /** Files written, as given on the command line or under its --out folder. */
  outputs: string[];
  /** The sweep a combination belongs to. */
  sweepId: string | null;
  host: string;
  version: string;
}

/** Default catalogue path: `reports/catalogue.duckdb` under the current folder. */
export const DEFAULT_CATALOGUE = join('reports', 'catalogue.duckdb');

/**
 * The catalogue file commands append to: `QUANTBOOK_CATALOGUE` when set (`off` turns the
 * catalogue off and gives null), else {@link DEFAULT_CATALOGUE} under the current folder.
 * @example cataloguePath() // '/home/me/project/reports/catalogue.duckdb'
 */
export function cataloguePath(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.QUANTBOOK_CATALOGUE;
  if (v === 'off') return null;
  return resolve(v && v.length > 0 ? v : DEFAULT_CATALOGUE);
}

/**
 * A new row id: UTC time to the second plus 6 random hex digits.
 * @example newRunId(new Date('2026-12-02T08:15:00Z')) // 'r20261202T081500Z-3f9a1c'
 */
export function newRunId(at: Date = new Date()): string {
  return `r${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** Fills the fields every row shares (host, version) around what the caller knows. */
export function catalogueRow(part: Omit<CatalogueRow, 'id' | 'host' | 'version'> & { id?: string }): CatalogueRow {
  return { id: part.id ?? newRunId(new Date(part.time)), host: hostname(), version: VERSION, ...part };
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS runs (
  id VARCHAR PRIMARY KEY,
  time TIMESTAMPTZ NOT NULL,
  command VARCHAR NOT NULL,
  argv JSON,
  notebook VARCHAR,
  notebook_sha256 VARCHAR,
  parameters JSON,
  records JSON,
  status VARCHAR NOT NULL,
  error VARCHAR,
  duration_s DOUBLE,
  git_commit VARCHAR,
  git_dirty BOOLEAN,
  data JSON,
  outputs JSON,
  sweep_id VARCHAR,
  host VARCHAR,
  version VARCHAR
)`;

type Duck = typeof import('@duckdb/node-api');
type Connection = Awaited<ReturnType<Awaited<ReturnType<Duck['DuckDBInstance']['create']>>['connect']>>;

async function duck(): Promise<Duck> {
  return import('@duckdb/node-api');
}

/**
 * Loads DuckDB's bindings now, unless the catalogue is off, so a command can let them load while
 * it waits (on a kernel) instead of after its work; a failure shows when the catalogue is written.
 * @example preloadCatalogue() // the later appendRuns finds @duckdb/node-api loaded
 */
export function preloadCatalogue(env: NodeJS.ProcessEnv = process.env): void {
  if (cataloguePath(env) !== null) duck().catch(() => undefined);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isLockConflict(err: unknown): boolean {
  return /Could not set lock|Conflicting lock/i.test(String((err as Error)?.message ?? err));
}

/**
 * Opens the catalogue, retrying while another process holds DuckDB's file lock, runs `fn`, and
 * always closes it again.
 * @throws ConfigError when the file stays locked for `waitMs`, or is not a DuckDB file.
 */
async function withDatabase<T>(path: string, readOnly: boolean, waitMs: number, fn: (c: Connection) => Promise<T>): Promise<T> {
  const { DuckDBInstance } = await duck();
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    let instance;
    try {
      instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
    } catch (err) {
      if (isLockConflict(err) && Date.now() < deadline) {
        await sleep(delay + Math.random() * delay);
        continue;
      }
      const why = isLockConflict(err) ? `still locked by another process after ${waitMs} ms` : String((err as Error).message).split('\n')[0];
      throw new ConfigError(`cannot open the run catalogue: ${why}`, { file: path });
    }
    const c = await instance.connect();
    try {
      return await fn(c);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  }
}


/** Takes `<path>.lock` (O_EXCL), taking over a lock whose holder has died. @returns false on timeout. */
async function acquireLock(lock: string, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      continue; // released between our open and read: try again at once
    }
    // A lock file just created has no pid yet: give its writer a moment before judging it.
    const age = (() => {
      try {
        return Date.now() - statSync(lock).mtimeMs;
      } catch {
        return 0;
      }
    })();
    if ((Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) || (!Number.isInteger(holder) && age > 2000)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() >= deadline) return false;
    await sleep(delay + Math.random() * delay);
  }
}

function spoolDir(path: string): string {
  return `${path}.pending`;
}

function readSpool(path: string): Array<{ file: string; rows: CatalogueRow[] }> {
  const dir = spoolDir(path);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const file = join(dir, f);
    return { file, rows: JSON.parse(readFileSync(file, 'utf8')) as CatalogueRow[] };
  });
}

async function insertRows(c: Connection, rows: readonly CatalogueRow[]): Promise<number> {
  await c.run(SCHEMA);
  let added = 0;
  await c.run('BEGIN TRANSACTION');
  try {
    for (const r of rows) {
      const res = await c.runAndReadAll(
        `INSERT INTO runs VALUES ($1, $2::TIMESTAMPTZ, $3, $4::JSON, $5, $6, $7::JSON, $8::JSON, $9, $10, $11, $12, $13, $14::JSON, $15::JSON, $16, $17, $18)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [r.id, r.time, r.command, JSON.stringify(r.argv), r.notebook, r.notebookSha256, JSON.stringify(r.parameters), JSON.stringify(r.records),
          r.status, r.error, Number.isFinite(r.durationS) ? r.durationS : null, r.gitCommit, r.gitDirty, JSON.stringify(r.data), JSON.stringify(r.outputs),
          r.sweepId, r.host, r.version],
      );
      added += res.currentRowCount;
    }
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK');
    throw err;
  }
  return added;
}

/** What {@link appendRuns} did. */
export interface AppendResult {
  /** Rows written to the database now (including spooled rows from earlier writers). */
  written: number;
  /** Where the rows went instead when the catalogue stayed busy, else null. */
  spooled: string | null;
}

/**
 * Appends rows to the catalogue at `path` (created with its folder when missing), first
 * ingesting any rows earlier writers spooled. Safe under any number of concurrent writers.
 * @param opts.waitMs - how long to wait for the lock and the file (default 30 000).
 * @throws ConfigError when `path` exists and is not a DuckDB file, or its folder cannot be created.
 * @example await appendRuns('reports/catalogue.duckdb', [row]) // { written: 1, spooled: null }
 */
export async function appendRuns(path: string, rows: readonly CatalogueRow[], opts: { waitMs?: number } = {}): Promise<AppendResult> {
  const waitMs = opts.waitMs ?? 30_000;
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new ConfigError(`cannot create the run catalogue's folder: ${(err as Error).message}`, { file: path });
  }
  const lock = `${path}.lock`;
  const spool = (): AppendResult => {
    if (rows.length === 0) return { written: 0, spooled: null };
    const file = join(spoolDir(path), `${rows[0].id}-${randomBytes(3).toString('hex')}.json`);
    writeFileAtomic(file, `${JSON.stringify(rows)}\n`);
    return { written: 0, spooled: file };
  };
  if (!(await acquireLock(lock, waitMs))) return spool();
  try {
    const pending = readSpool(path);
    let written: number;
    try {
      written = await withDatabase(path, false, waitMs, (c) => insertRows(c, [...pending.flatMap((p) => p.rows), ...rows]));
    } catch (err) {
      if (err instanceof ConfigError && /still locked/.test(err.message)) return spool();
      throw err;
    }
    for (const p of pending) rmSync(p.file, { force: true });
    return { written, spooled: null };
  } finally {
    rmSync(lock, { force: true });
  }
}

/** A query result: column names and rows as plain JSON values. */
export interface QueryResult {
  columns: string[];
  rows: Array<Record<string, CatalogueJson>>;
}

/** Catalogue JSON columns come back as text: parse them into values for callers. */
const JSON_COLUMNS = new Set(['argv', 'parameters', 'records', 'data', 'outputs']);

/** Type names whose JSON form DuckDB gives as text (64-bit and wider integers). */
const WIDE_INTEGERS = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

function plainRows(columns: string[], types: string[], raw: Array<Record<string, unknown>>): Array<Record<string, CatalogueJson>> {
  return raw.map((r) => {
    const out: Record<string, CatalogueJson> = Object.create(null) as Record<string, CatalogueJson>;
    for (const [j, k] of columns.entries()) {
      const v = r[k];
      if (WIDE_INTEGERS.has(types[j]) && typeof v === 'string' && Number.isSafeInteger(Number(v))) {
        out[k] = Number(v); // counts and sums as numbers while they are exact
        continue;
      }
      if (JSON_COLUMNS.has(k) && typeof v === 'string') {
        try {
          out[k] = JSON.parse(v) as CatalogueJson;
          continue;
        } catch {
          // not JSON after all: keep the text
        }
      }
      out[k] = v === undefined ? null : (v as CatalogueJson);
    }
    return out;
  });
}

/** Double-quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Builds the temporary view `runs_wide`: the catalogue's columns plus one column per parameter
 * (`"param.NAME"`) and per record (`"record.NAME"`), typed DOUBLE when every value of that
 * key is a number, BOOLEAN when every one is a boolean, else VARCHAR (JSON text for nested
 * values), so filters and sorts compare numbers as numbers.
 */
async function createWideView(c: Connection): Promise<void> {
  const cols: string[] = [];
  for (const [column, prefix] of [['parameters', 'param'], ['records', 'record']] as const) {
    const keys = await c.runAndReadAll(
      `SELECT k, bool_and(t IS NULL OR t IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'NULL')) AS num, bool_and(t IS NULL OR t IN ('BOOLEAN', 'NULL')) AS bool
       FROM (SELECT k, json_type(j, '$."' || replace(k, '"', '\\"') || '"') AS t
             FROM (SELECT unnest(json_keys(${column})) AS k, ${column} AS j FROM runs))
       GROUP BY k ORDER BY k`,
    );
    for (const row of keys.getRowObjectsJson() as Array<{ k: string; num: boolean; bool: boolean }>) {
      const path = sqlString(`$."${row.k.replace(/"/g, '\\"')}"`);
      const text = `json_extract_string(${column}, ${path})`;
      const expr = row.num ? `TRY_CAST(${text} AS DOUBLE)` : row.bool ? `TRY_CAST(${text} AS BOOLEAN)` : text;
      cols.push(`${expr} AS ${quoteIdent(`${prefix}.${row.k}`)}`);
    }
  }
  await c.run(`CREATE OR REPLACE TEMP VIEW runs_wide AS SELECT runs.*${cols.map((x) => `, ${x}`).join('')} FROM runs`);
}

/**
 * Rewrites `param.NAME` and `record.NAME` outside quotes into the quoted `runs_wide` columns,
 * so `param.symbol = 'ETH_BTC'` and `record.val_mae < 0.01` read naturally.
 * @example widenNames("param.symbol = 'ETH_BTC'") // "\"param.symbol\" = 'ETH_BTC'"
 */
export function widenNames(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^(param|record)\.([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
    if (m && (i === 0 || !/[A-Za-z0-9_."]/.test(sql[i - 1]))) {
      out += quoteIdent(`${m[1]}.${m[2]}`);
      i += m[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/**
 * Runs any SQL against the catalogue, read-only, with the `runs` table and the `runs_wide`
 * view (see {@link widenNames}); an empty or missing catalogue answers with no rows.
 * @throws ConfigError for SQL DuckDB rejects (its message, one line) or a busy catalogue.
 * @example (await queryCatalogue('reports/catalogue.duckdb', 'SELECT count(*) AS n FROM runs')).rows[0].n // 12
 */
export async function queryCatalogue(path: string, sql: string, opts: { waitMs?: number } = {}): Promise<QueryResult> {
  if (!existsSync(path)) {
    // Answer against an empty catalogue of the right shape, so queries still check.
    return runQuery(':memory:', sql, false, opts.waitMs ?? 30_000, path);
  }
  return runQuery(path, sql, true, opts.waitMs ?? 30_000, path);
}

/**
 * How long each notebook's latest passing `run` or `report` took, by the resolved notebook path
 * the catalogue keeps (seconds, `duration_s`): what `quantbook report` orders its notebooks by.
 * A missing catalogue answers an empty map without loading DuckDB.
 * @param opts.waitMs - how long to wait for a busy catalogue (default 2 000).
 * @throws ConfigError for a busy or unreadable catalogue.
 * @example (await lastNotebookDurations('reports/catalogue.duckdb')).get('/repo/notebooks/05-sweep.ipynb') // 87.8
 */
export async function lastNotebookDurations(path: string, opts: { waitMs?: number } = {}): Promise<Map<string, number>> {
  if (!existsSync(path)) return new Map();
  const sql = `SELECT notebook, arg_max(duration_s, time) AS duration_s FROM runs
    WHERE status = 'ok' AND command IN ('run', 'report') AND notebook IS NOT NULL AND duration_s IS NOT NULL GROUP BY notebook`;
  const { rows } = await runQuery(path, sql, true, opts.waitMs ?? 2_000, path);
  return new Map(rows.flatMap((r) => (typeof r.notebook === 'string' && typeof r.duration_s === 'number' ? [[r.notebook, r.duration_s] as const] : [])));
}

async function runQuery(dbPath: string, sql: string, readOnly: boolean, waitMs: number, shownPath: string): Promise<QueryResult> {
  return withDatabase(dbPath, readOnly, waitMs, async (c) => {
    if (!readOnly) await c.run(SCHEMA);
    await createWideView(c);
    let reader;
    try {
      reader = await c.runAndReadAll(sql);
    } catch (err) {
      throw new ConfigError(`the catalogue rejected the query: ${String((err as Error).message).split('\n')[0]}`, { file: shownPath, value: sql });
    }
    const columns = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    return { columns, rows: plainRows(columns, types, reader.getRowObjectsJson() as Array<Record<string, unknown>>) };
  });
}

/** Options of {@link listRuns}. */
export interface ListOptions {
  /** Only runs of this notebook (its path, or its file name). */
  notebook?: string;
  /** An SQL condition over `runs_wide`; `param.X` and `record.X` name parameters and records. */
  where?: string;
  /** A column, `param.X` or `record.X`, optionally followed by ` desc`; default newest first. */
  sort?: string;
  /** At most this many rows (default 50). */
  limit?: number;
}

/**
 * Lists runs, newest first unless sorted otherwise.
 * @throws ConfigError for a bad --where or --sort (DuckDB's message names the column).
 * @example await listRuns(path, { where: "param.symbol = 'ETH_BTC'", sort: 'record.val_mae' })
 */
export async function listRuns(path: string, opts: ListOptions = {}): Promise<QueryResult> {
  const conds: string[] = [];
  if (opts.notebook) conds.push(`(notebook = ${sqlString(opts.notebook)} OR notebook LIKE ${sqlString(`%/${opts.notebook.replace(/[%_]/g, '')}`)})`);
  if (opts.where) conds.push(`(${widenNames(opts.where)})`);
  let order = 'time DESC, id DESC';
  if (opts.sort) {
    const m = /^\s*(.+?)(?:\s+(asc|desc))?\s*$/i.exec(opts.sort);
    if (!m) throw new ConfigError('--sort takes a column, param.NAME or record.NAME, optionally followed by asc or desc', { key: '--sort', value: opts.sort });
    const col = /^(param|record)\./.test(m[1]) ? quoteIdent(m[1]) : widenNames(m[1]);
    order = `${col} ${m[2]?.toUpperCase() ?? 'ASC'} NULLS LAST, time DESC`;
  }
  const limit = opts.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError('--limit takes a whole number >= 1', { key: '--limit', value: limit });
  const sql = `SELECT * FROM runs_wide${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit}`;
  return queryCatalogue(path, sql);
}

/**
 * The runs with these ids (or unique id prefixes), in the order asked.
 * @throws ConfigError for an id that matches no run or more than one.
 * @example (await getRuns(path, ['r20261202T0815']))[0].command // 'run'
 */
export async function getRuns(path: string, ids: readonly string[]): Promise<Array<Record<string, CatalogueJson>>> {
  const out: Array<Record<string, CatalogueJson>> = [];
  for (const id of ids) {
    const res = await queryCatalogue(path, `SELECT * FROM runs WHERE id = ${sqlString(id)} OR starts_with(id, ${sqlString(id)}) ORDER BY id LIMIT 3`);
    const exact = res.rows.filter((r) => r.id === id);
    const rows = exact.length ? exact : res.rows;
    if (rows.length === 0) throw new ConfigError('no run in the catalogue has this id', { file: path, value: id });
    if (rows.length > 1) throw new ConfigError(`the id prefix matches several runs (${rows.map((r) => r.id).join(', ')}): give more of it`, { file: path, value: id });
    out.push(rows[0]);
  }
  return out;
}
