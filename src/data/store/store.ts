/**
 * The bar store: month partitions of Parquet per series plus a JSON manifest of what was
 * fetched, what is pending and the known gaps. Every change is atomic per file (temporary file
 * + rename): partitions first, the manifest last, so a failure at any point leaves readable
 * files, and a manifest that never claims more than the partitions hold.
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { DataError } from '../../core/errors';
import { tsSeries } from '../bars';
import { commitStaged, discardStaged, stageParquet, writeFileAtomic, type StagedFile } from './atomic';
import {
  STORE_MANIFEST,
  emptyManifest,
  entryRanges,
  isStoreRoot,
  monthOf,
  monthRange,
  partitionPath,
  rangesToIso,
  readManifest,
  seriesKey,
  type GapSummary,
  type SeriesEntry,
  type SeriesId,
  type StoreManifest,
} from './layout';
import { isoMs, mergeRanges, subtractRanges, type TimeRange } from './ranges';
import { pidAlive } from '../../core/process';

/** The writer lock beside the manifest. */
export const LOCK_FILE = '.quantbook-store.lock';


/** Value columns of each kind of series, after `ts`. */
export const SERIES_COLUMNS = {
  bars: ['open', 'high', 'low', 'close', 'volume'],
  mark: ['open', 'high', 'low', 'close', 'volume'],
  funding: ['rate'],
} as const;

/** Rows of one series as typed arrays: `ts` (ms UTC, ascending) and the value columns. */
export interface SeriesRows {
  ts: Float64Array;
  cols: Record<string, Float64Array>;
}

/** What one {@link BarStore.commit} did. */
export interface CommitResult {
  /** Rows that were not stored before. */
  added: number;
  /** Rows already stored with the same values (overlapping pages, refetches). */
  duplicates: number;
  /** Rows already stored with different values, replaced by the new ones. */
  replaced: number;
}

function columnsOf(kind: SeriesId['kind']): readonly string[] {
  return SERIES_COLUMNS[kind];
}

/** Reads a partition file as typed arrays. */
function readPartition(path: string, kind: SeriesId['kind']): SeriesRows {
  let df: pl.DataFrame;
  try {
    df = pl.readParquet(path);
  } catch (err) {
    throw new DataError(`cannot read store partition: ${(err as Error).message.split('\n')[0]}`, { file: path });
  }
  const cols: Record<string, Float64Array> = {};
  for (const c of columnsOf(kind)) {
    if (!df.columns.includes(c)) throw new DataError('store partition lacks a column', { file: path, column: c });
    cols[c] = df.getColumn(c).cast(pl.Float64).toTypedArray() as Float64Array;
  }
  return { ts: df.getColumn('ts').cast(pl.Int64).cast(pl.Float64).toTypedArray() as Float64Array, cols };
}

/** The frame a partition file holds: `ts` (Datetime ms UTC) and the kind's value columns.
 * @example rowsToFrame({ ts: new Float64Array([0]), cols: { rate: new Float64Array([1e-4]) } }, 'funding').columns // ['ts', 'rate']
 */
export function rowsToFrame(rows: SeriesRows, kind: SeriesId['kind']): pl.DataFrame {
  return pl.DataFrame([tsSeries(rows.ts), ...columnsOf(kind).map((c) => pl.Series(c, rows.cols[c], pl.Float64))]);
}

function sliceRows(rows: SeriesRows, from: number, to: number): SeriesRows {
  const cols: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(rows.cols)) cols[k] = v.subarray(from, to);
  return { ts: rows.ts.subarray(from, to), cols };
}

/**
 * Merges stored rows with new rows (both ascending, unique `ts`): new rows win a tie.
 * Equal values count as duplicates; NaN equals NaN.
 */
function mergeRows(old: SeriesRows, add: SeriesRows, names: readonly string[]): { rows: SeriesRows; result: CommitResult } {
  const n = old.ts.length + add.ts.length;
  const ts = new Float64Array(n);
  const cols: Record<string, Float64Array> = Object.fromEntries(names.map((c) => [c, new Float64Array(n)]));
  const result: CommitResult = { added: 0, duplicates: 0, replaced: 0 };
  let i = 0;
  let j = 0;
  let k = 0;
  const take = (src: SeriesRows, at: number): void => {
    ts[k] = src.ts[at];
    for (const c of names) cols[c][k] = src.cols[c][at];
    k++;
  };
  while (i < old.ts.length || j < add.ts.length) {
    if (j >= add.ts.length || (i < old.ts.length && old.ts[i] < add.ts[j])) take(old, i++);
    else if (i >= old.ts.length || add.ts[j] < old.ts[i]) {
      result.added++;
      take(add, j++);
    } else {
      const same = names.every((c) => Object.is(old.cols[c][i], add.cols[c][j]) || old.cols[c][i] === add.cols[c][j]);
      if (same) result.duplicates++;
      else result.replaced++;
      take(add, j++);
      i++;
    }
  }
  return { rows: sliceRows({ ts, cols }, 0, k), result };
}

/**
 * A bar store on disk. Open one with {@link BarStore.open}; read series with {@link BarStore.read};
 * add rows with {@link BarStore.commit}.
 * @example const store = BarStore.open('store', { create: true }); store.entries().length // 0
 */
export class BarStore {
  private constructor(
    /** Folder of the store. */
    readonly root: string,
    private manifest: StoreManifest,
  ) {}

  /**
   * Opens the store at `root`; with `create`, makes an empty one when the folder holds none.
   * @throws DataError when there is no store at `root` (and not `create`), or the folder holds
   *   other files but no manifest (a store is never created over unrelated data).
   */
  static open(root: string, opts: { create?: boolean; nowMs?: number } = {}): BarStore {
    if (isStoreRoot(root)) return new BarStore(root, readManifest(root));
    if (!opts.create) return new BarStore(root, readManifest(root));
    if (existsSync(root)) {
      const other = readdirSync(root).filter((f) => !f.startsWith('.'));
      if (other.length > 0) throw new DataError(`folder is not empty and holds no ${STORE_MANIFEST}: pick a new folder for the store`, { file: root });
    }
    const store = new BarStore(root, emptyManifest(opts.nowMs ?? Date.now()));
    store.saveManifest();
    return store;
  }

  /**
   * Takes the store's writer lock (`.quantbook-store.lock`, created exclusively) so that two
   * fetches never interleave their manifest writes; a lock left by a process of this machine
   * that no longer runs is taken over. Returns the function that releases it.
   * @throws DataError when another running process holds the lock.
   * @example const release = store.lock(); try { ... } finally { release(); }
   */
  lock(): () => void {
    const path = join(this.root, LOCK_FILE);
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, mine, { flag: 'wx' });
        return () => rmSync(path, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataError(`cannot lock the store: ${(err as Error).message}`, { file: path });
      }
      let holder: { pid?: number; host?: string; since?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
      } catch {
        // Unreadable lock: treat as stale.
      }
      if (holder.host === hostname() && typeof holder.pid === 'number' && pidAlive(holder.pid)) {
        throw new DataError(`the store is being written by process ${holder.pid} since ${holder.since}; wait for it, or remove the lock file if that process is gone`, { file: path });
      }
      if (holder.host && holder.host !== hostname()) {
        throw new DataError(`the store is locked by a process on ${holder.host} since ${holder.since}; remove the lock file if that fetch is over`, { file: path });
      }
      rmSync(path, { force: true });
    }
    throw new DataError('cannot take the store lock', { file: path });
  }

  /** Every series in the manifest. */
  entries(): SeriesEntry[] {
    return Object.values(this.manifest.series);
  }

  /** The manifest (a copy). */
  snapshot(): StoreManifest {
    return JSON.parse(JSON.stringify(this.manifest)) as StoreManifest;
  }

  /** The manifest entry of a series, if stored. */
  entry(id: SeriesId): SeriesEntry | undefined {
    return this.manifest.series[seriesKey(id)];
  }

  /** Ranges fully fetched for a series. */
  fetched(id: SeriesId): TimeRange[] {
    return entryRanges(this.entry(id)?.fetched ?? []);
  }

  /** Ranges a fetch set out to get and did not finish. */
  pending(id: SeriesId): TimeRange[] {
    return entryRanges(this.entry(id)?.pending ?? []);
  }

  private ensure(id: SeriesId, nowMs: number): SeriesEntry {
    const key = seriesKey(id);
    const e = (this.manifest.series[key] ??= {
      kind: id.kind,
      source: id.source,
      symbol: id.symbol,
      ...(id.interval ? { interval: id.interval } : {}),
      fetched: [],
      pending: [],
      rows: 0,
      months: [],
      updated: isoMs(nowMs),
    });
    return e;
  }

  /**
   * Records ranges a fetch is about to ask for (they stay `pending` until committed), and the
   * request options that shape the data. Written before the first request, so an interrupted
   * fetch leaves a record of what it did not finish.
   */
  markPending(id: SeriesId, ranges: readonly TimeRange[], nowMs: number, options?: Record<string, string>): void {
    const e = this.ensure(id, nowMs);
    e.pending = rangesToIso([...entryRanges(e.pending), ...ranges]);
    if (options && Object.keys(options).length > 0) e.options = { ...e.options, ...options };
    this.touch(e, nowMs);
    this.saveManifest();
  }

  /**
   * Adds rows to a series and marks `covered` as fetched (and no longer pending), atomically per
   * file: the month partitions the rows fall in are rewritten (old rows merged with the new, new
   * values win a tie, counted), then the manifest.
   * @param rows - ascending, unique `ts`; validated by the caller.
   * @throws DataError when a partition cannot be read or written; the store is then unchanged.
   */
  commit(id: SeriesId, rows: SeriesRows, covered: readonly TimeRange[], nowMs: number): CommitResult {
    const key = seriesKey(id);
    const names = columnsOf(id.kind);
    const total: CommitResult = { added: 0, duplicates: 0, replaced: 0 };
    const staged: StagedFile[] = [];
    const e = this.ensure(id, nowMs);
    const months = new Set(e.months);
    let firstMs = e.first ? Date.parse(e.first) : Infinity;
    let lastMs = e.last ? Date.parse(e.last) : -Infinity;
    try {
      let from = 0;
      while (from < rows.ts.length) {
        const month = monthOf(rows.ts[from]);
        let to = from;
        while (to < rows.ts.length && monthOf(rows.ts[to]) === month) to++;
        const path = partitionPath(this.root, key, month);
        const old = existsSync(path) ? readPartition(path, id.kind) : { ts: new Float64Array(0),
          cols: Object.fromEntries(names.map((c) => [c, new Float64Array(0)])) };
        const merged = mergeRows(old, sliceRows(rows, from, to), names);
        total.added += merged.result.added;
        total.duplicates += merged.result.duplicates;
        total.replaced += merged.result.replaced;
        if (merged.result.added + merged.result.replaced > 0) staged.push(stageParquet(rowsToFrame(merged.rows, id.kind), path));
        months.add(month);
        firstMs = Math.min(firstMs, rows.ts[from]);
        lastMs = Math.max(lastMs, rows.ts[to - 1]);
        from = to;
      }
      commitStaged(staged);
    } catch (err) {
      discardStaged(staged);
      throw err;
    }
    e.fetched = rangesToIso([...entryRanges(e.fetched), ...covered]);
    e.pending = rangesToIso(subtractRanges(entryRanges(e.pending), covered));
    e.rows += total.added;
    e.months = [...months].sort();
    if (Number.isFinite(firstMs)) e.first = isoMs(firstMs);
    if (Number.isFinite(lastMs)) e.last = isoMs(lastMs);
    if (total.added + total.replaced > 0 || covered.length > 0) this.touch(e, nowMs);
    this.saveManifest();
    return total;
  }

  /** Records the known gaps of a series (see `gapSummary`). */
  setGaps(id: SeriesId, gaps: GapSummary | undefined): void {
    const e = this.entry(id);
    if (!e) return;
    if (gaps) e.gaps = gaps;
    else delete e.gaps;
    this.saveManifest();
  }

  /**
   * Reads a series (all of it, or the rows with `ts` in `[start, end)`), ascending.
   * @throws DataError when a partition is missing or unreadable.
   */
  read(id: SeriesId, range?: TimeRange): SeriesRows {
    const e = this.entry(id);
    const names = columnsOf(id.kind);
    const parts: SeriesRows[] = [];
    for (const month of e?.months ?? []) {
      if (range) {
        const [ms, me] = monthRange(month);
        if (me <= range[0] || ms >= range[1]) continue;
      }
      const path = partitionPath(this.root, seriesKey(id), month);
      if (!existsSync(path)) throw new DataError('store partition listed in the manifest is missing', { file: path });
      parts.push(readPartition(path, id.kind));
    }
    let n = 0;
    for (const p of parts) n += p.ts.length;
    const ts = new Float64Array(n);
    const cols: Record<string, Float64Array> = Object.fromEntries(names.map((c) => [c, new Float64Array(n)]));
    let k = 0;
    for (const p of parts) {
      for (let i = 0; i < p.ts.length; i++) {
        if (range && (p.ts[i] < range[0] || p.ts[i] >= range[1])) continue;
        ts[k] = p.ts[i];
        for (const c of names) cols[c][k] = p.cols[c][i];
        k++;
      }
    }
    return sliceRows({ ts, cols }, 0, k);
  }

  private touch(e: SeriesEntry, nowMs: number): void {
    e.updated = isoMs(nowMs);
    this.manifest.updated = e.updated;
  }

  private saveManifest(): void {
    writeFileAtomic(join(this.root, STORE_MANIFEST), `${JSON.stringify(this.manifest, null, 2)}\n`);
  }
}

/**
 * Runs of missing bars inside the fetched ranges of a 24x7 series: every step of `stepMs` between
 * the start and end of a fetched range with no bar.
 * @example gapSummary(new Float64Array([0, 60_000, 240_000]), [[0, 300_000]], 60_000).missingBars // 2
 */
export function gapSummary(ts: Float64Array, fetched: readonly TimeRange[], stepMs: number): GapSummary {
  const runs: [number, number][] = [];
  let i = 0;
  for (const [a, b] of mergeRanges(fetched)) {
    const first = Math.ceil(a / stepMs) * stepMs;
    while (i < ts.length && ts[i] < first) i++;
    let expect = first;
    while (i < ts.length && ts[i] < b) {
      if (ts[i] > expect) runs.push([expect, ts[i]]);
      expect = ts[i] + stepMs;
      i++;
    }
    const lastSlot = Math.ceil(b / stepMs) * stepMs;
    if (expect < lastSlot) runs.push([expect, lastSlot]);
  }
  const missing = runs.reduce((n, [a, b]) => n + Math.round((b - a) / stepMs), 0);
  const largest = [...runs].sort((x, y) => y[1] - y[0] - (x[1] - x[0]) || x[0] - y[0]).slice(0, 10);
  return { count: runs.length, missingBars: missing, largest: largest.map(([a, b]) => [isoMs(a), isoMs(b)]) };
}
