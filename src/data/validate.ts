/**
 * Bar validation: every rule of the Bars contract checked in one pass over each
 * symbol's typed arrays, a `DataError` naming the first offending row, and an
 * opt-in `repair` (polars operations) that fixes what it can and counts what it touched.
 */
import pl from 'nodejs-polars';
import { dict } from '../core/dict';
import { DataError } from '../core/errors';
import { type BarArrays, type Bars, assertBarsSchema, eachSymbol, hasSymbol } from './bars';
import { formatDuration, inferIntervalMs } from './interval';
import { loadBars, type LoadOptions } from './load';

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


// Row filter of the dropInvalid repair: the price, OHLC and volume rules as one polars expression.
const PRICES = ['open', 'high', 'low', 'close'] as const;
const badPrice = (c: string): pl.Expr => pl.col(c).isNull().or(pl.col(c).isFinite().not()).or(pl.col(c).lt(0)).or(pl.col(c).eq(0));
const badVolume = pl.col('volume').isNull().or(pl.col('volume').isFinite().not()).or(pl.col('volume').lt(0));
const highTooLow = pl.col('high').lt(pl.col('open')).or(pl.col('high').lt(pl.col('close')));
const lowTooHigh = pl.col('low').gt(pl.col('open')).or(pl.col('low').gt(pl.col('close')));

function invalidRowExpr(): pl.Expr {
  return PRICES.map(badPrice).reduce((a, b) => a.or(b)).or(highTooLow.or(lowTooHigh).fillNull(false)).or(badVolume);
}

/**
 * Per-symbol most common positive step of `ts`, in ms (`''` keys a frame without `symbol`).
 * @example barIntervals(loadBars('../shared/data/real/crypto-5m')).ETH_BTC // 300_000
 */
export function barIntervals(bars: Bars): Record<string, number> {
  return intervalsOf(Array.from(eachSymbol(bars), (part) => part.arrays));
}

/** The interval of each symbol that has one (two or more bars), keyed by symbol (`''` without one). */
function intervalsOf(arrays: readonly BarArrays[]): Record<string, number> {
  const out = dict<number>();
  for (const a of arrays) {
    const step = inferIntervalMs(a.ts);
    if (step !== undefined) out[a.symbol ?? ''] = step;
  }
  return out;
}

/**
 * Finds every rule violation (up to `maxPerRule` each), without throwing.
 * Rules: `ts` strictly increasing per symbol (`unsorted`, `duplicate`); prices finite and > 0
 * (`price`); high >= max(open, close) and low <= min(open, close) (`ohlc`); volume finite and >= 0
 * (`volume`); one bar interval per frame, every step a whole multiple of it (`interval`).
 * Issues come in frame order: by symbol, then row, then rule.
 * @example checkBars(bars).length // 0 for clean bars
 */
export function checkBars(bars: Bars, opts: ValidateOptions = {}): ValidationIssue[] {
  return checkBarsWithCounts(bars, opts).issues;
}

/**
 * {@link checkBars} plus the number of offending rows per rule (all of them, not capped) and the
 * bar interval per symbol.
 * @example checkBarsWithCounts(markPrice).counts.volume // 100
 */
export function checkBarsWithCounts(
  bars: Bars,
  opts: ValidateOptions = {},
): { issues: ValidationIssue[]; counts: Record<ValidationRule, number>; intervalMs: Record<string, number> } {
  assertBarsSchema(bars, opts.file);
  const max = opts.maxPerRule ?? 5;
  const parts = [...eachSymbol(bars)];
  const intervalMs = intervalsOf(parts.map((part) => part.arrays));
  const distinct = new Set(Object.values(intervalMs));
  const step = !opts.allowMixedIntervals && distinct.size === 1 ? [...distinct][0] : 0;
  const issues: ValidationIssue[] = [];
  const counts: Record<ValidationRule, number> = { unsorted: 0, duplicate: 0, price: 0, ohlc: 0, volume: 0, interval: 0 };
  const shown: Record<ValidationRule, number> = { ...counts };
  for (const part of parts) {
    const a = part.arrays;
    const report = (rule: ValidationRule, row: number, column: string, message: string): void => {
      if (shown[rule]++ >= max) return;
      // Nulls are NaN in the arrays; the frame tells a missing value (null) from NaN.
      const value = column === 'ts' ? new Date(a.ts[row]) : part.bars.getColumn(column).get(row);
      issues.push({ rule, message, row, column, value, ...(a.symbol !== undefined ? { symbol: a.symbol } : {}) });
    };
    const { ts, open, high, low, close, volume } = a;
    for (let i = 0; i < ts.length; i++) {
      // The common case in one test each, before the checks that name the problem: a step equal
      // to the interval (skips a slow float remainder), and a clean row (low > 0 and a finite
      // high bound open and close, so every price check below passes).
      if (i > 0) {
        const d = ts[i] - ts[i - 1];
        if (!(d === step && step > 0)) {
          if (d < 0) {
            counts.unsorted++;
            report('unsorted', i, 'ts', 'timestamps go backwards (sort the file, or repair it: --repair sort; repair: ["sort"] in code)');
          } else if (d === 0) {
            counts.duplicate++;
            report('duplicate', i, 'ts', 'duplicate timestamp (keep the first: --repair dropDuplicates; repair: ["dropDuplicates"] in code)');
          } else if (step > 0 && d % step !== 0) {
            counts.interval++;
            report('interval', i, 'ts', `step is not a whole multiple of the ${formatDuration(step)} bar interval (mixed bar intervals)`);
          }
        }
      }
      const l = low[i];
      const h = high[i];
      if (l > 0 && h < Infinity && l <= open[i] && l <= close[i] && h >= open[i] && h >= close[i] && volume[i] >= 0 && volume[i] < Infinity) continue;
      // `!(x > 0 && x < Infinity)` is also true for NaN (and nulls, which are NaN here).
      const badO = !(open[i] > 0 && open[i] < Infinity);
      const badH = !(high[i] > 0 && high[i] < Infinity);
      const badL = !(low[i] > 0 && low[i] < Infinity);
      const badC = !(close[i] > 0 && close[i] < Infinity);
      if (badO || badH || badL || badC) {
        counts.price++;
        if (badO) report('price', i, 'open', 'price must be finite and positive');
        if (badH) report('price', i, 'high', 'price must be finite and positive');
        if (badL) report('price', i, 'low', 'price must be finite and positive');
        if (badC) report('price', i, 'close', 'price must be finite and positive');
      }
      const highLow = high[i] < open[i] || high[i] < close[i];
      const lowHigh = low[i] > open[i] || low[i] > close[i];
      if (highLow || lowHigh) {
        counts.ohlc++;
        if (highLow) report('ohlc', i, 'high', 'high below max(open, close)');
        if (lowHigh) report('ohlc', i, 'low', 'low above min(open, close)');
      }
      if (!(volume[i] >= 0 && volume[i] < Infinity)) {
        counts.volume++;
        report('volume', i, 'volume', 'volume must be finite and >= 0');
      }
    }
  }
  if (!opts.allowMixedIntervals && distinct.size > 1) {
    const listed = Object.entries(intervalMs).map(([sym, ms]) => `${sym}: ${formatDuration(ms)}`).join(', ');
    issues.push({ rule: 'interval', message: `symbols have different bar intervals (${listed}); pass --allow-mixed-intervals (allowMixedIntervals in code)`, row: 0, column: 'ts', value: listed });
    counts.interval += 1;
  }
  return { issues, counts, intervalMs };
}

/**
 * Validates bars against the contract, optionally repairing first, and throws on the first problem left.
 * Nothing is repaired unless asked: `repair: ['sort', 'dropDuplicates', 'dropInvalid']`.
 * @throws DataError naming the file, symbol, row, column and value of the first violation, or
 *   when no rows are left after repair.
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
    const first = issues[0];
    throw new DataError(first.message, { file: opts.file, symbol: first.symbol, row: first.row, column: first.column, value: first.value });
  }
  return { bars: out, repaired, intervalMs };
}

/** Options of {@link loadValidBars}: the loader's, plus the repairs to run before checking. */
export interface LoadValidOptions extends LoadOptions {
  /** Repairs before checking (none by default); see {@link ValidateOptions.repair}. */
  repair?: RepairRule[];
}

/**
 * The one way every command reads bars: {@link loadBars} then {@link validateBars}, so each
 * command (eval, forecast, backtest, data resample, the notebooks) refuses the same bad bars
 * with the same message: prices finite and > 0, high/low bound open and close, volume finite and
 * >= 0, timestamps strictly increasing, one bar interval. `data inspect` and `data validate`
 * list the same problems instead of throwing ({@link checkBarsWithCounts}).
 * @throws DataError from the loader, or naming the file, symbol, row, column and value of the
 *   first problem found.
 * @example loadValidBars('../shared/data/real/crypto-5m').bars.height // 46033
 */
export function loadValidBars(path: string, opts: LoadValidOptions = {}): ValidationResult {
  const { repair, ...load } = opts;
  return validateBars(loadBars(path, load), { file: path, repair, allowMixedIntervals: opts.allowMixedIntervals });
}
