/**
 * Walk-forward evaluation: on each fold, fit (choose the candidate whose backtest on
 * the training ranges scores best under a user-given objective), then run the chosen
 * candidate on the fold's test block; stitch the test blocks into one out-of-sample
 * equity curve.
 *
 * Folds come from the data layer (`walkForward` / `purgedKFold` in src/data, which
 * apply purge and embargo); this module only consumes `{ train: ranges[], test: range }`.
 * A candidate is a config override (e.g. a Kelly fraction) and / or its own signals
 * (e.g. another forecaster setting), precomputed causally over the whole series.
 * Each backtest on a window starts flat; test blocks must not overlap, and each starts
 * with the equity the previous one ended with.
 */
import { ConfigError } from '../core/errors';
import type { BacktestConfigInput } from './config';
import type { Fold, IndexRange } from '../data/splits';
import { runBacktest } from './engine';
import type { Trade } from './ledger';
import type { MarketArrays } from './market';
import type { BacktestOptions, BacktestResult } from './result';
import type { Signals } from './signals';
import { backtestStats, computeStats, type Stats } from './stats';

/** One choice the fit can make. */
export interface Candidate {
  label: string;
  /** Merged over the base config (objects merge key by key; arrays and values replace). */
  config?: BacktestConfigInput;
  /** Signals of this candidate; default the run's signals. */
  signals?: Signals;
}

/** Inputs of `walkForwardBacktest`. */
export interface WalkForwardSpec {
  market: MarketArrays;
  signals: Signals;
  baseConfig?: BacktestConfigInput;
  candidates: Candidate[];
  folds: Fold[];
  /** Larger is better; NaN scores rank last. E.g. `(s) => s.sharpe`. */
  objective: (stats: Stats) => number;
  options?: BacktestOptions;
}

/** Per fold: what was chosen and how it did. */
export interface FoldReport {
  train: IndexRange[];
  test: IndexRange;
  chosen: string;
  /** Objective of every candidate on the training ranges, in candidate order. */
  trainScores: number[];
  testStats: Stats;
}

/** The stitched out-of-sample result. */
export interface WalkForwardResult {
  folds: FoldReport[];
  /** Out-of-sample bar times and equity (test blocks back to back). */
  ts: Float64Array;
  equity: Float64Array;
  grossExposure: Float64Array;
  trades: Trade[];
  /** Statistics of the stitched out-of-sample curve. */
  stats: Stats;
}

/**
 * Runs a walk-forward fit-and-test (see the module doc).
 *
 * @throws ConfigError for no candidates, no folds, empty or overlapping test blocks, ranges outside the data.
 * @example
 * walkForwardBacktest({
 *   market, signals, baseConfig: { defaultClass: 'crypto' },
 *   candidates: [0.25, 0.5, 1].map((f) => ({ label: `kelly ${f}`, config: { sizing: { kind: 'kelly', fraction: f } } })),
 *   folds: walkForward(market.ts.length, { trainSize: 2000, testSize: 500, labelHorizon: 30 }),
 *   objective: (s) => s.sharpe,
 * }).stats.sharpe;
 */
export function walkForwardBacktest(spec: WalkForwardSpec): WalkForwardResult {
  const { market, candidates, folds } = spec;
  const T = market.ts.length;
  if (candidates.length === 0) throw new ConfigError('walk-forward needs at least one candidate', { key: 'candidates' });
  if (folds.length === 0) throw new ConfigError('walk-forward needs at least one fold', { key: 'folds' });
  let lastEnd = -Infinity;
  for (const [i, f] of folds.entries()) {
    for (const r of [...f.train, f.test]) {
      if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.end <= T && r.start < r.end)) {
        throw new ConfigError(`fold ${i}: range [${r.start}, ${r.end}) is empty or outside the ${T} bars`, { key: `folds.${i}` });
      }
    }
    if (f.test.start < lastEnd) throw new ConfigError(`fold ${i}: test blocks overlap or are out of order; stitching needs disjoint blocks in time order`, { key: `folds.${i}.test` });
    lastEnd = f.test.end;
  }
  const base = spec.baseConfig ?? {};
  // The merge of two configs as written is one as written; runBacktest checks it (resolveConfig).
  const configs = candidates.map((c) => mergeConfig(base, c.config ?? {}) as BacktestConfigInput);
  const run = (k: number, r: IndexRange, capital: number): BacktestResult =>
    runBacktest(sliceMarket(market, r), sliceSignals(candidates[k].signals ?? spec.signals, market.symbols.length, r), { ...configs[k], capital },
      spec.options);

  const capital0 = Number(configs[0].capital ?? 100_000);
  const reports: FoldReport[] = [];
  const parts: BacktestResult[] = [];
  let capital = capital0;
  for (const f of folds) {
    const trainScores = candidates.map((_, k) => {
      const runs = f.train.map((r) => run(k, r, capital0));
      const score = spec.objective(stitchedStats(runs, capital0));
      return Number.isNaN(score) ? -Infinity : score;
    });
    let best = 0;
    for (let k = 1; k < trainScores.length; k++) if (trainScores[k] > trainScores[best]) best = k;
    const test = run(best, f.test, capital);
    parts.push(test);
    capital = test.equity[test.equity.length - 1];
    reports.push({ train: f.train, test: f.test, chosen: candidates[best].label, trainScores, testStats: backtestStats(test) });
  }
  const stitched = stitch(parts);
  return { folds: reports, ...stitched, trades: parts.flatMap((p) => p.trades), stats: stitchedStats(parts, capital0) };
}

function stitch(parts: BacktestResult[]): { ts: Float64Array; equity: Float64Array; grossExposure: Float64Array } {
  const n = parts.reduce((s, p) => s + p.ts.length, 0);
  const ts = new Float64Array(n);
  const equity = new Float64Array(n);
  const grossExposure = new Float64Array(n);
  let k = 0;
  for (const p of parts) {
    ts.set(p.ts, k);
    equity.set(p.equity, k);
    grossExposure.set(p.grossExposure, k);
    k += p.ts.length;
  }
  return { ts, equity, grossExposure };
}

/** Stats of several runs chained: each run's returns, compounded from `capital`. */
function stitchedStats(runs: BacktestResult[], capital: number): Stats {
  if (runs.length === 1) return backtestStats(runs[0]);
  const { ts, grossExposure } = stitch(runs);
  const equity = new Float64Array(ts.length + 1);
  const gross = new Float64Array(ts.length + 1);
  const times = new Float64Array(ts.length + 1);
  equity[0] = capital;
  times[0] = ts[0] - (runs[0].ts.length > 1 ? runs[0].ts[1] - runs[0].ts[0] : 0);
  let k = 1;
  const costs = { fees: 0, slippage: 0, interest: 0, funding: 0, tradedNotional: 0 };
  for (const r of runs) {
    let prev = r.config.capital;
    for (let i = 0; i < r.equity.length; i++, k++) {
      equity[k] = equity[k - 1] * (r.equity[i] / prev);
      gross[k] = (grossExposure[k - 1] / r.equity[i]) * equity[k];
      times[k] = ts[k - 1];
      prev = r.equity[i];
    }
    for (const key of Object.keys(costs) as Array<keyof typeof costs>) costs[key] += r.costs[key];
  }
  return computeStats({ ts: times, equity, grossExposure: gross, costs }, runs.flatMap((r) => r.trades), { periodsPerYear: runs[0].periodsPerYear });
}

/**
 * The bars `[start, end)` of a market, without copying.
 * @example sliceMarket(market, { start: 100, end: 200 }).ts.length; // 100
 */
export function sliceMarket(m: MarketArrays, r: IndexRange): MarketArrays {
  const S = m.symbols.length;
  return {
    symbols: m.symbols,
    ts: m.ts.subarray(r.start, r.end),
    open: m.open.subarray(r.start * S, r.end * S),
    high: m.high.subarray(r.start * S, r.end * S),
    low: m.low.subarray(r.start * S, r.end * S),
    close: m.close.subarray(r.start * S, r.end * S),
    sessionEnd: m.sessionEnd.subarray(r.start, r.end),
  };
}

/**
 * The bars `[start, end)` of signals, without copying; `firstBar` shifts with the window.
 * @example sliceSignals(signals, market.symbols.length, { start: 100, end: 200 }).mu.length; // 100 * S
 */
export function sliceSignals(s: Signals, S: number, r: IndexRange): Signals {
  const cut = <A extends { subarray(a: number, b: number): A }>(a: A | undefined): A | undefined => a?.subarray(r.start * S, r.end * S);
  return {
    ...s,
    mu: cut(s.mu)!,
    sigma: cut(s.sigma)!,
    valid: cut(s.valid),
    regime: cut(s.regime),
    entry: cut(s.entry),
    score: cut(s.score),
    target: cut(s.target),
    stopLoss: cut(s.stopLoss),
    takeProfit: cut(s.takeProfit),
    pWin: cut(s.pWin),
    payoff: cut(s.payoff),
    firstBar: Math.min(Math.max((s.firstBar ?? 0) - r.start, 0), r.end - r.start),
  };
}

/**
 * Deep-merges plain objects (override wins; arrays, values and objects of another `kind` replace).
 * @example mergeConfig({ limits: { perSymbolCap: 0.6 } }, { limits: { minTradeFraction: 0 } }); // both keys
 */
export function mergeConfig(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    // A tagged union of another kind replaces the base object instead of merging into it.
    const sameKind = isPlainObject(b) && isPlainObject(v) && (v.kind === undefined || v.kind === b.kind);
    out[k] = sameKind ? mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}
