/**
 * Monte Carlo on a backtest: how different could the same edge have looked?
 *
 * - Trade bootstrap: draw the run's trade returns (on equity at entry) with
 *   replacement, as many as the run had, and compound them in the drawn order.
 * - Stationary bootstrap (Politis and Romano 1994) of per-bar returns: blocks of
 *   geometric random length with mean `meanBlockLength`, starting at uniform
 *   positions, wrapping around the end; keeps the volatility clustering an iid
 *   bootstrap destroys. The default block length is the Politis-White (2004)
 *   estimate with the Patton-Politis-White (2009) correction.
 *
 * Every path starts at `startEquity`; results are distributions of final equity,
 * maximum drawdown, and the share of paths whose equity ever fell to
 * `ruinFraction * startEquity` or below. Seeded: same inputs and seed, same numbers.
 */
import { ConfigError, DataError } from '../core/errors';
import { Rng, stationaryBootstrapIndices } from '../core/random';
import { quantileSorted } from '../stats/order';
import type { BacktestResult } from './result';

// The index rule lives with the generator (the historical baseline draws the same way);
// re-exported here, where the backtest's Monte Carlo and its callers have always found it.
export { stationaryBootstrapIndices };

/** Summary of a sampled quantity. */
export interface Distribution {
  mean: number;
  p05: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** What one Monte Carlo method produced. */
export interface MonteCarloResult {
  method: 'tradeBootstrap' | 'stationaryBootstrap';
  simulations: number;
  seed: number;
  /** Steps per path (trades or bars). */
  steps: number;
  /** Mean block length used (stationary bootstrap only). */
  meanBlockLength?: number;
  finalEquity: Distribution;
  /** Maximum drawdown per path, percent. */
  maxDrawdownPct: Distribution;
  /** Share of paths that touched the ruin level. */
  ruinProbability: number;
  ruinFraction: number;
  /** Per-path values, for histograms. */
  samples: { finalEquity: Float64Array; maxDrawdownPct: Float64Array };
}

/** Options shared by both methods. */
export interface MonteCarloOptions {
  /** Paths (default 1000). */
  simulations?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
  /** Equity each path starts from (default 1). */
  startEquity?: number;
  /** Ruin when equity falls to this fraction of the start (default 0.5). */
  ruinFraction?: number;
}

function checkOptions(o: MonteCarloOptions): Required<MonteCarloOptions> {
  const r = { simulations: o.simulations ?? 1000, seed: o.seed ?? 1, startEquity: o.startEquity ?? 1, ruinFraction: o.ruinFraction ?? 0.5 };
  if (!Number.isInteger(r.simulations) || r.simulations < 1) throw new ConfigError('simulations must be a positive integer', { key: 'simulations', value: r.simulations });
  if (!(r.startEquity > 0)) throw new ConfigError('startEquity must be positive', { key: 'startEquity', value: r.startEquity });
  if (!(r.ruinFraction >= 0 && r.ruinFraction < 1)) throw new ConfigError('ruinFraction must be in [0, 1)', { key: 'ruinFraction', value: r.ruinFraction });
  return r;
}

function checkReturns(returns: ArrayLike<number>, what: string): void {
  if (returns.length === 0) throw new DataError(`no ${what} to resample`, { column: what });
  for (let i = 0; i < returns.length; i++) {
    if (!(returns[i] > -1) || !Number.isFinite(returns[i])) throw new DataError(`${what} must be finite and above -100%`, { row: i, column: what, value: returns[i] });
  }
}

/**
 * Bootstraps trade returns with replacement.
 *
 * @param tradeReturns - per-trade returns on equity (fractions; e.g. `Trade.returnOnEquity`), in order.
 * @throws DataError for no trades or a return at or below -100%; ConfigError for bad options.
 * @example
 * bootstrapTrades([0.02, -0.01, 0.015], { simulations: 2000, seed: 7 }).finalEquity.p50; // about 1.025
 */
export function bootstrapTrades(tradeReturns: ArrayLike<number>, options: MonteCarloOptions = {}): MonteCarloResult {
  checkReturns(tradeReturns, 'trade returns');
  const o = checkOptions(options);
  const rng = new Rng(o.seed);
  const n = tradeReturns.length;
  return simulate('tradeBootstrap', o, n, () => tradeReturns[rng.int(n)]);
}

/**
 * Stationary block bootstrap of per-bar returns (Politis and Romano 1994).
 *
 * @param barReturns - simple per-bar returns of the equity curve, in time order.
 * @param options.meanBlockLength - mean block length in bars (>= 1); default `optimalBlockLength(barReturns)`.
 * @throws DataError for no returns or a return at or below -100%; ConfigError for bad options.
 * @example
 * stationaryBootstrap(returns, { simulations: 1000, seed: 3, meanBlockLength: 20 }).ruinProbability; // e.g. 0.012
 */
export function stationaryBootstrap(barReturns: ArrayLike<number>, options: MonteCarloOptions & { meanBlockLength?: number } = {}): MonteCarloResult {
  checkReturns(barReturns, 'bar returns');
  const o = checkOptions(options);
  const n = barReturns.length;
  const L = options.meanBlockLength ?? optimalBlockLength(barReturns);
  if (!(L >= 1)) throw new ConfigError('meanBlockLength must be at least 1 bar', { key: 'meanBlockLength', value: L });
  const rng = new Rng(o.seed);
  const idx = new Int32Array(n);
  const result = simulate('stationaryBootstrap', o, n, (step) => {
    // A path draws all its indices at its first step: the same draws, in the same order, as step by step.
    if (step === 0) stationaryBootstrapIndices(n, L, rng, idx);
    return barReturns[idx[step]];
  });
  return { ...result, meanBlockLength: L };
}

function simulate(method: MonteCarloResult['method'], o: Required<MonteCarloOptions>, steps: number, draw: (step: number) => number): MonteCarloResult {
  const finals = new Float64Array(o.simulations);
  const dds = new Float64Array(o.simulations);
  const ruinLevel = o.ruinFraction * o.startEquity;
  let ruined = 0;
  for (let p = 0; p < o.simulations; p++) {
    let e = o.startEquity;
    let peak = e;
    let dd = 0;
    let hit = false;
    for (let k = 0; k < steps; k++) {
      e *= 1 + draw(k);
      if (e > peak) peak = e;
      else if (1 - e / peak > dd) dd = 1 - e / peak;
      if (e <= ruinLevel) hit = true;
    }
    finals[p] = e;
    dds[p] = 100 * dd;
    if (hit) ruined++;
  }
  return {
    method,
    simulations: o.simulations,
    seed: o.seed,
    steps,
    finalEquity: summarizeDistribution(finals),
    maxDrawdownPct: summarizeDistribution(dds),
    ruinProbability: ruined / o.simulations,
    ruinFraction: o.ruinFraction,
    samples: { finalEquity: finals, maxDrawdownPct: dds },
  };
}

/**
 * Mean and percentiles (linear interpolation between order statistics, numpy's default).
 * @example summarizeDistribution(Float64Array.of(1, 2, 3, 4, 5)).p25; // 2
 */
export function summarizeDistribution(values: Float64Array): Distribution {
  const sorted = values.slice().sort();
  const q = (p: number): number => quantileSorted(sorted, p);
  let sum = 0;
  for (const v of sorted) sum += v;
  return { mean: sum / sorted.length, p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) };
}

/**
 * Politis-White (2004) mean block length for the stationary bootstrap, with the
 * Patton-Politis-White (2009) correction; the same steps as `arch`'s `optimal_block_length`:
 * pick the bandwidth M as twice the first lag after which `max(5, log10 n)` autocorrelations
 * are all below `2 sqrt(log10 n / n)`; then with the flat-top window `lambda`,
 * `G = sum lambda(k/M) k R(k)` (over k = -M..M), `D = 2 (sum lambda(k/M) R(k))^2`,
 * `b = (2 G^2 / D)^(1/3) n^(1/3)`, capped at `min(3 sqrt(n), n / 3)` and floored at 1.
 *
 * @example optimalBlockLength(whiteNoise); // close to 1
 */
export function optimalBlockLength(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 8) return 1;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  const e = Float64Array.from({ length: n }, (_, i) => x[i] - mean);
  const bMax = Math.ceil(Math.min(3 * Math.sqrt(n), n / 3));
  const kn = Math.max(5, Math.floor(Math.log10(n)));
  const mMax = Math.ceil(Math.sqrt(n)) + kn;
  const cv = 2 * Math.sqrt(Math.log10(n) / n);
  const acv = new Float64Array(mMax + 1);
  const absCorr = new Float64Array(mMax + 1);
  let optM = -1;
  for (let i = 0; i <= mMax; i++) {
    let cross = 0;
    let v1 = 0;
    let v2 = 0;
    for (let j = i; j < n; j++) cross += e[j] * e[j - i];
    for (let j = i + 1; j < n; j++) v1 += e[j] * e[j];
    for (let j = 0; j < n - i - 1; j++) v2 += e[j] * e[j];
    acv[i] = cross / n;
    absCorr[i] = Math.abs(cross) / Math.sqrt(v1 * v2);
    if (i >= kn && optM < 0) {
      let allSmall = true;
      for (let k = i - kn; k < i; k++) if (!(absCorr[k] < cv)) allSmall = false;
      if (allSmall) optM = i - kn;
    }
  }
  const M = Math.min(optM >= 0 ? 2 * Math.max(optM, 1) : mMax, mMax);
  let g = 0;
  let longRun = acv[0];
  for (let k = 1; k <= M; k++) {
    const lambda = k / M <= 0.5 ? 1 : 2 * (1 - k / M);
    g += 2 * lambda * k * acv[k];
    longRun += 2 * lambda * acv[k];
  }
  const d = 2 * longRun * longRun;
  const b = Math.pow((2 * g * g) / d, 1 / 3) * Math.pow(n, 1 / 3);
  return Math.max(1, Math.min(Number.isFinite(b) ? b : 1, bMax));
}

/**
 * Both Monte Carlo methods on a finished run, starting from its capital: the trade
 * bootstrap on closed trades' `returnOnEquity` (trades are compounded one after the
 * other, an approximation when trades overlapped in time) and the stationary bootstrap
 * on per-bar equity returns (the first bar's return measured from the capital).
 * `trades` is null when the run closed no trade.
 * @example monteCarloOfRun(result, { simulations: 1000, seed: 1 }).bars.ruinProbability
 */
export function monteCarloOfRun(
  result: BacktestResult,
  options: MonteCarloOptions & { meanBlockLength?: number } = {},
): { trades: MonteCarloResult | null; bars: MonteCarloResult } {
  const start = result.config.capital;
  const closed = result.trades.filter((t) => t.exitReason !== 'end').map((t) => t.returnOnEquity);
  const eq = result.equity;
  const returns = Float64Array.from(eq, (e, i) => e / (i === 0 ? start : eq[i - 1]) - 1);
  const o = { ...options, startEquity: options.startEquity ?? start };
  return { trades: closed.length > 0 ? bootstrapTrades(closed, o) : null, bars: stationaryBootstrap(returns, o) };
}
