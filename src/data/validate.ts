/**
 * Bar validation: every rule of the Bars contract checked on the whole frame
 * with polars expressions, a `DataError` naming the first offending row, and an
 * opt-in `repair` that fixes what it can and counts what it touched.
 */
import pl from 'nodejs-polars';
import { DataError } from '../core/errors';
import { type Bars, assertBarsSchema, hasSymbol, symbolRuns } from './bars';
import { formatDuration, inferIntervalMs } from './interval';

/** Checks, in the order they are reported. */
export type ValidationRule = 'unsorted' | 'duplicate' | 'price' | 'ohlc' | 'volume' | 'interval';

/** Repairs a caller may ask for; none runs by default. */
export type RepairRule = 'sort' | 'dropDuplicates' | 'dropInvalid';

/** One problem found. `row` is 0-based within the symbol's rows (the file row when loaded from a folder of per-symbol files). */
export interface ValidationIssue {
  rule: ValidationRule;
  message: string;
  row: number;
  column: string;
  value: unknown;
  symbol?: string;
}

/** Options of {@link validateBars} and {@link checkBars}. */
export interface ValidateOptions {
  /** File the frame came from, for messages. */
  file?: string;
  /** Accept symbols with different bar intervals, or steps that are not whole multiples of the interval. Default false. */
  allowMixedIntervals?: boolean;
  /** Repairs to apply before checking: `sort` (by symbol, ts), `dropDuplicates` (keep the first), `dropInvalid` (bad prices, OHLC or volume). */
  repair?: RepairRule[];
  /** Most issues reported per rule by {@link checkBars}; default 5. */
  maxPerRule?: number;
}

/** What {@link validateBars} returns. */
export interface ValidationResult {
  bars: Bars;
  /** Rows each repair touched: sort = rows that moved, the drops = rows removed. */
  repaired: Record<RepairRule, number>;
  /** Bar interval per symbol in ms (the most common step; `''` keys a single-symbol frame). */
  intervalMs: Record<string, number>;
}

const PRICES = ['open', 'high', 'low', 'close'] as const;

function symbolExpr(bars: Bars): pl.Expr {
  return hasSymbol(bars) ? pl.col('symbol') : pl.lit('');
}

/**
 * Step from the previous bar of the same symbol, in ms (null on a symbol's first row). With
 * contiguous symbols a plain diff masked at run starts is much faster than a window over symbols.
 */
function stepExpr(bars: Bars): pl.Expr {
  const diff = pl.col('ts').cast(pl.Int64).diff(1, 'ignore');
  if (!hasSymbol(bars)) return diff;
  if (symbolRuns(bars)) return pl.when(pl.col('symbol').neq(pl.col('symbol').shift(1)).fillNull(true)).then(pl.lit(null)).otherwise(diff);
  return diff.over('symbol');
}

const badPrice = (c: string): pl.Expr => pl.col(c).isNull().or(pl.col(c).isFinite().not()).or(pl.col(c).lt(0)).or(pl.col(c).eq(0));
const badVolume = pl.col('volume').isNull().or(pl.col('volume').isFinite().not()).or(pl.col('volume').lt(0));
const highTooLow = pl.col('high').lt(pl.col('open')).or(pl.col('high').lt(pl.col('close')));
const lowTooHigh = pl.col('low').gt(pl.col('open')).or(pl.col('low').gt(pl.col('close')));

function invalidRowExpr(): pl.Expr {
  return PRICES.map(badPrice).reduce((a, b) => a.or(b)).or(highTooLow.or(lowTooHigh).fillNull(false)).or(badVolume);
}

/** Per-symbol most common positive step of `ts`, in ms (`''` keys a frame without `symbol`). */
export function barIntervals(bars: Bars): Record<string, number> {
  const out: Record<string, number> = {};
  const runs = symbolRuns(bars);
  if (runs) {
    const ts = bars.getColumn('ts').cast(pl.Int64).cast(pl.Float64).toTypedArray() as Float64Array;
    for (const r of runs) {
      const step = inferIntervalMs(ts.subarray(r.start, r.start + r.length));
      if (step !== undefined) out[r.symbol] = step;
    }
    return out;
  }
  const steps = bars
    .select(symbolExpr(bars).alias('_s'), stepExpr(bars).alias('_d'))
    .filter(pl.col('_d').gt(0))
    .groupBy(['_s', '_d'])
    .agg(pl.len().alias('_n'))
    .sort(['_s', '_n', '_d'], [false, true, false]);
  const s = steps.getColumn('_s').toArray() as string[];
  const d = steps.getColumn('_d').cast(pl.Float64).toArray() as number[];
  for (let i = 0; i < s.length; i++) if (!(s[i] in out)) out[s[i]] = d[i];
  return out;
}

function rowWithinSymbol(bars: Bars, row: number): { row: number; symbol?: string } {
  if (!hasSymbol(bars)) return { row };
  const symbol = bars.getColumn('symbol').get(row) as string;
  const before = bars.head(row).filter(pl.col('symbol').eq(pl.lit(symbol))).height;
  return { row: before, symbol };
}

/**
 * Finds every rule violation (up to `maxPerRule` each), without throwing.
 * Rules: `ts` strictly increasing per symbol (`unsorted`, `duplicate`); prices finite and > 0
 * (`price`); high >= max(open, close) and low <= min(open, close) (`ohlc`); volume finite and >= 0
 * (`volume`); one bar interval per frame, every step a whole multiple of it (`interval`).
 * @example checkBars(bars).length // 0 for clean bars
 */
export function checkBars(bars: Bars, opts: ValidateOptions = {}): ValidationIssue[] {
  return checkBarsWithCounts(bars, opts).issues;
}

/**
 * {@link checkBars} plus the total number of offending rows per rule (not capped).
 * @example checkBarsWithCounts(markPrice).counts.volume // 100
 */
export function checkBarsWithCounts(
  bars: Bars,
  opts: ValidateOptions = {},
): { issues: ValidationIssue[]; counts: Record<ValidationRule, number>; intervalMs: Record<string, number> } {
  assertBarsSchema(bars, opts.file);
  const max = opts.maxPerRule ?? 5;
  const dt = pl.col('_dt');
  const intervals = barIntervals(bars);
  const distinct = new Set(Object.values(intervals));
  const masks: [ValidationRule, string, pl.Expr, string][] = [
    ['unsorted', 'ts', dt.lt(0).fillNull(false), 'timestamps go backwards (sort the file, or pass repair: ["sort"])'],
    ['duplicate', 'ts', dt.eq(0).fillNull(false), 'duplicate timestamp (pass repair: ["dropDuplicates"] to keep the first)'],
  ];
  for (const c of PRICES) masks.push(['price', c, badPrice(c), 'price must be finite and positive']);
  masks.push(['ohlc', 'high', highTooLow.fillNull(false), 'high below max(open, close)']);
  masks.push(['ohlc', 'low', lowTooHigh.fillNull(false), 'low above min(open, close)']);
  masks.push(['volume', 'volume', badVolume, 'volume must be finite and >= 0']);
  if (!opts.allowMixedIntervals && distinct.size === 1) {
    const step = [...distinct][0];
    masks.push(['interval', 'ts', dt.gt(0).and(dt.modulo(pl.lit(step).cast(pl.Int64)).neq(0)).fillNull(false), `step is not a whole multiple of the ${formatDuration(step)} bar interval (mixed bar intervals)`]);
  }
  const withStep = bars.withColumn(stepExpr(bars).alias('_dt'));
  const flags = withStep.select(...masks.map(([, , e], i) => e.alias(`_m${i}`)));
  const issues: ValidationIssue[] = [];
  const perRule = new Map<ValidationRule, number>();
  const counts: Record<ValidationRule, number> = { unsorted: 0, duplicate: 0, price: 0, ohlc: 0, volume: 0, interval: 0 };
  const any = new Map<ValidationRule, pl.Expr>();
  masks.forEach(([rule], i) => any.set(rule, any.has(rule) ? any.get(rule)!.or(pl.col(`_m${i}`)) : pl.col(`_m${i}`)));
  const sums = flags.select(...[...any].map(([rule, e]) => e.cast(pl.Int64).sum().alias(rule)));
  for (const rule of any.keys()) counts[rule] = Number(sums.getColumn(rule).get(0));
  masks.forEach(([rule, column, , message], i) => {
    const rows = flags.getColumn(`_m${i}`).argTrue().head(max).toArray() as number[];
    for (const r of rows) {
      if ((perRule.get(rule) ?? 0) >= max) break;
      perRule.set(rule, (perRule.get(rule) ?? 0) + 1);
      const where = rowWithinSymbol(bars, r);
      const raw = bars.getColumn(column).slice(r, 1);
      const value = column === 'ts' ? new Date(Number(raw.cast(pl.Int64).cast(pl.Float64).get(0))) : raw.get(0);
      issues.push({ rule, message, column, value, ...where });
    }
  });
  if (!opts.allowMixedIntervals && distinct.size > 1) {
    const listed = Object.entries(intervals).map(([s, ms]) => `${s}: ${formatDuration(ms)}`).join(', ');
    issues.push({ rule: 'interval', message: `symbols have different bar intervals (${listed}); pass allowMixedIntervals`, row: 0, column: 'ts', value: listed });
    counts.interval += 1;
  }
  return { issues, counts, intervalMs: intervals };
}

/**
 * Validates bars against the contract, optionally repairing first, and throws on the first problem left.
 * Nothing is repaired unless asked: `repair: ['sort', 'dropDuplicates', 'dropInvalid']`.
 * @throws DataError naming the file, symbol, row, column and value of the first violation.
 * @example validateBars(bars, { repair: ['dropDuplicates'] }).repaired.dropDuplicates // rows dropped
 */
export function validateBars(bars: Bars, opts: ValidateOptions = {}): ValidationResult {
  const repaired: Record<RepairRule, number> = { sort: 0, dropDuplicates: 0, dropInvalid: 0 };
  const repair = new Set(opts.repair ?? []);
  let out = bars;
  assertBarsSchema(out, opts.file);
  if (repair.has('dropInvalid')) {
    const before = out.height;
    out = out.filter(invalidRowExpr().not());
    repaired.dropInvalid = before - out.height;
  }
  if (repair.has('sort')) {
    const keys = hasSymbol(out) ? ['symbol', 'ts'] : ['ts'];
    const sorted = out.withRowIndex('_i').sort(keys, false, true);
    repaired.sort = sorted.select(pl.col('_i').cast(pl.Int64).neq(pl.intRange(0, sorted.height).cast(pl.Int64)).sum().alias('n')).getColumn('n').get(0) as number;
    out = sorted.drop('_i');
  }
  if (repair.has('dropDuplicates')) {
    const before = out.height;
    out = out.unique({ subset: hasSymbol(out) ? ['symbol', 'ts'] : ['ts'], keep: 'first', maintainOrder: true } as never);
    repaired.dropDuplicates = before - out.height;
  }
  if (out.height === 0) throw new DataError('no rows left after repair', { file: opts.file });
  const { issues, intervalMs } = checkBarsWithCounts(out, { ...opts, maxPerRule: 1 });
  if (issues.length > 0) {
    const first = issues.reduce((a, b) => (b.row < a.row ? b : a));
    throw new DataError(first.message, { file: opts.file, symbol: first.symbol, row: first.row, column: first.column, value: first.value });
  }
  return { bars: out, repaired, intervalMs };
}
