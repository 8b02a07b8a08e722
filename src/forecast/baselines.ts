/**
 * Baseline forecasters: `naive` (no change), `trend` (half the last 5-bar change),
 * `historical` (drift and volatility of the window) and `oracle` (the realised
 * future; evaluation only). The per-window kernels (`baselinePaths`, `returnStats`)
 * are exported for callers that want one window's numbers without the async
 * interface; the backtest goes through `BaselineForecaster` like any forecaster.
 *
 * Spread, where a baseline has no distribution of its own: log-normal around the
 * centre with sigma = RMS of the window's one-bar log returns times sqrt(h)
 * (a zero-drift random walk), the same scale the shipped models use.
 */
import { ConfigError, ModelError } from '../core/errors';
import { Rng, stationaryBootstrapIndices } from '../core/random';
import { quantileSorted } from '../stats/order';
import { normalQuantile } from '../stats/normal';
import { checkHorizon, checkSamples, checkWindows, lastObservedIndex, tail, toWindows } from './request';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo, type Tensor3 } from './types';

/** Which baseline, with its options. */
export type BaselineSpec =
  | { kind: 'naive' }
  | { kind: 'trend' }
  | {
      kind: 'historical';
      /** Quantiles from a normal fit of log returns (default) or the empirical h-bar log returns of the window. */
      distribution?: 'normal' | 'empirical';
      /** Paths by bootstrap of past one-bar returns: iid, or stationary (Politis-Romano, default mean block 10). */
      bootstrap?: { kind: 'iid' } | { kind: 'stationary'; meanBlock: number };
    }
  | { kind: 'oracle' };

/** Mean block length of the historical baseline's stationary bootstrap when the spec names none. */
const DEFAULT_MEAN_BLOCK = 10;

/** Names accepted where a baseline can be named by a string (CLI, configs). */
export const BASELINE_NAMES = ['naive', 'trend', 'historical', 'oracle'] as const;

/** Summary of a window's one-bar log returns (missing ones skipped). */
export interface ReturnStats {
  /** Observed one-bar log returns, oldest first. */
  returns: Float64Array;
  /** Mean log return per bar. */
  drift: number;
  /** Sample standard deviation (ddof = 1) of log returns per bar. */
  volatility: number;
  /** sqrt(mean r^2): the zero-drift volatility. */
  rms: number;
  /** Last observed close. */
  last: number;
  /** Index of the last observed close in the window. */
  lastIndex: number;
}

/**
 * One-bar log return statistics of a window of closes. Each return is `log(b) - log(a)`, a
 * difference of log prices rather than `log(b / a)`: an unchanged close gives exactly 0, and a
 * move and its reversal (a -> b, b -> a) give returns that cancel exactly, so a bootstrapped
 * path that revisits a price lands on it without float noise.
 * @example returnStats(new Float64Array([100, 110, 121])).drift // log(1.1) = 0.0953...
 */
export function returnStats(window: Float64Array): ReturnStats {
  // One Math.log per close (each close is the end of one return and the start of the next),
  // written straight into a typed array: the same differences as log(b) - log(a) per pair.
  const m = window.length;
  const all = new Float64Array(Math.max(0, m - 1));
  let count = 0;
  let a = m > 0 ? window[0] : NaN;
  let logA = a > 0 ? Math.log(a) : NaN;
  for (let i = 1; i < m; i++) {
    const b = window[i];
    const logB = b > 0 ? Math.log(b) : NaN;
    if (a > 0 && b > 0) all[count++] = logB - logA;
    a = b;
    logA = logB;
  }
  const returns = count === all.length ? all : all.slice(0, count);
  const n = returns.length;
  let sum = 0;
  let sumSq = 0;
  for (const r of returns) {
    sum += r;
    sumSq += r * r;
  }
  const drift = n > 0 ? sum / n : 0;
  let ss = 0;
  for (const r of returns) ss += (r - drift) * (r - drift);
  const lastIndex = lastObservedIndex(window);
  return {
    returns,
    drift,
    volatility: n > 1 ? Math.sqrt(ss / (n - 1)) : 0,
    rms: n > 0 ? Math.sqrt(sumSq / n) : 0,
    last: lastIndex >= 0 ? window[lastIndex] : NaN,
    lastIndex,
  };
}

/**
 * Centre of the naive and trend baselines: the last close, or the last close plus half
 * the change over the last 5 bars (c_t + 0.5 (c_t - c_{t-5}), the same for every step;
 * c_{t-5} is the last observed close at or before 5 bars back).
 * @example baselineCentre('trend', w, returnStats(w)) // c_t + 0.5 (c_t - c_{t-5})
 */
export function baselineCentre(kind: 'naive' | 'trend', window: Float64Array, stats: ReturnStats): number {
  if (kind === 'naive') return stats.last;
  for (let i = stats.lastIndex - 5; i >= 0; i--) {
    if (window[i] > 0) return stats.last + 0.5 * (stats.last - window[i]);
  }
  return stats.last;
}

/**
 * Quantiles of one window for steps 1..H, written to out[offset + q * H + (h - 1)].
 * naive / trend: centre * exp(z_q * rms * sqrt(h)); historical normal: last * exp(drift h + z_q vol sqrt(h));
 * historical empirical: last * exp(type-7 quantile of the window's overlapping h-bar log returns).
 * @throws ModelError when the window is too short for empirical h-bar returns.
 * @example baselineQuantiles({ kind: 'naive' }, window, 30, [0.1, 0.5, 0.9], out, 0) // out[30 + 29] === last close
 */
export function baselineQuantiles(
  spec: Exclude<BaselineSpec, { kind: 'oracle' }>,
  window: Float64Array,
  horizon: number,
  levels: readonly number[],
  out: Float64Array,
  offset: number,
): void {
  const s = returnStats(window);
  const z = levels.map(normalQuantile);
  for (let h = 1; h <= horizon; h++) {
    if (spec.kind === 'historical' && spec.distribution === 'empirical') {
      const sorted = hBarReturns(window, h).sort();
      if (sorted.length < 2) {
        throw new ModelError(`historical (empirical) needs at least 2 observed ${h}-bar returns in the window: pass a window longer than ${h + 2} bars`, {
          key: 'context',
        });
      }
      levels.forEach((q, j) => (out[offset + j * horizon + h - 1] = s.last * Math.exp(quantileSorted(sorted, q))));
      continue;
    }
    const centre = spec.kind === 'historical' ? s.last * Math.exp(s.drift * h) : baselineCentre(spec.kind, window, s);
    const sigma = (spec.kind === 'historical' ? s.volatility : s.rms) * Math.sqrt(h);
    z.forEach((zq, j) => (out[offset + j * horizon + h - 1] = centre * Math.exp(zq * sigma)));
  }
}

function hBarReturns(window: Float64Array, h: number): Float64Array {
  const rs: number[] = [];
  for (let i = 0; i + h < window.length; i++) {
    if (window[i] > 0 && window[i + h] > 0) rs.push(Math.log(window[i + h] / window[i]));
  }
  return Float64Array.from(rs);
}

/** Highs and lows of a window's bars, and where the sampled bars' highs and lows go (same layout as `out`). */
export interface BarRanges {
  high: Float64Array;
  low: Float64Array;
  outHigh: Float64Array;
  outLow: Float64Array;
}

/**
 * Sampled paths of one window, n x H closes written to out[offset + j * H + (h - 1)].
 * historical: bootstrap of observed one-bar log returns (iid, or stationary blocks of
 * geometric length with mean `meanBlock`, wrapping around); naive / trend: normal steps
 * with sigma = rms from the centre.
 *
 * With `ranges` (historical only) whole past bars are bootstrapped: the bar drawn for a step
 * also lends its high and low relative to its close (h_i / c_i, l_i / c_i), written to
 * `outHigh` / `outLow`. The closes are the same numbers as without `ranges` (same draws).
 * @throws ModelError for a window without two consecutive closes (historical), `ranges` on
 *   another baseline, or a bootstrapped bar whose high or low is missing or on the wrong side of its close.
 * @example baselinePaths({ kind: 'historical' }, window, 30, 100, new Rng(1), out, 0) // 100 paths x 30 closes in out
 */
export function baselinePaths(
  spec: Exclude<BaselineSpec, { kind: 'oracle' }>,
  window: Float64Array,
  horizon: number,
  n: number,
  rng: Rng,
  out: Float64Array,
  offset: number,
  ranges?: BarRanges,
): void {
  const s = returnStats(window);
  const m = s.returns.length;
  if (spec.kind === 'historical' && m === 0) {
    throw new ModelError('historical needs at least one observed one-bar return to bootstrap: pass a window with two consecutive closes', { key: 'context' });
  }
  if (ranges && spec.kind !== 'historical') throw new ModelError(`${spec.kind} samples closes only; highs and lows come from the historical baseline`, { key: 'contextHighLow' });
  const rel = ranges ? rangesOfReturns(window, ranges) : null;
  if (spec.kind === 'historical') {
    // iid is the stationary bootstrap with blocks of mean length 1 (a restart at every step).
    const meanBlock = bootstrapMeanBlock(spec);
    const idx = new Int32Array(horizon);
    for (let j = 0; j < n; j++) {
      const row = offset + j * horizon;
      stationaryBootstrapIndices(m, meanBlock, rng, idx);
      // last * exp(cumulative return), not exp(log(last) + ...): a path whose draws sum to 0
      // (unchanged bars, a move and its reversal) ends exactly at the last close.
      let cum = 0;
      for (let h = 0; h < horizon; h++) {
        cum += s.returns[idx[h]];
        const close = s.last * Math.exp(cum);
        out[row + h] = close;
        if (rel && ranges) {
          ranges.outHigh[row + h] = close * rel.highOverClose[idx[h]];
          ranges.outLow[row + h] = close * rel.lowOverClose[idx[h]];
        }
      }
    }
  } else {
    const logCentre = Math.log(baselineCentre(spec.kind, window, s));
    for (let j = 0; j < n; j++) {
      const row = offset + j * horizon;
      let logP = logCentre;
      for (let h = 0; h < horizon; h++) {
        logP += s.rms * rng.normal();
        out[row + h] = Math.exp(logP);
      }
    }
  }
}

/** The historical baseline's bootstrap rule in words, for `meta.samplesMethod`. */
function bootstrapMethod(spec: Extract<BaselineSpec, { kind: 'historical' }>): string {
  return spec.bootstrap?.kind === 'iid' ? 'iid draws' : `stationary blocks (mean length ${bootstrapMeanBlock(spec)})`;
}

/** Mean block length of the historical baseline's bootstrap: 1 for iid, default 10. */
function bootstrapMeanBlock(spec: Extract<BaselineSpec, { kind: 'historical' }>): number {
  const boot = spec.bootstrap ?? { kind: 'stationary', meanBlock: DEFAULT_MEAN_BLOCK };
  return boot.kind === 'iid' ? 1 : boot.meanBlock;
}

/**
 * high / close and low / close of the bar that ends each observed one-bar return of the window,
 * in the order of `returnStats(window).returns`.
 */
function rangesOfReturns(window: Float64Array, ranges: BarRanges): { highOverClose: Float64Array; lowOverClose: Float64Array } {
  if (ranges.high.length !== window.length || ranges.low.length !== window.length) {
    throw new ModelError(`highs and lows must align with the closes: ${ranges.high.length} highs, ${ranges.low.length} lows, ${window.length} closes`, { key: 'contextHighLow' });
  }
  const hi: number[] = [];
  const lo: number[] = [];
  for (let i = 1; i < window.length; i++) {
    const c = window[i];
    if (!(window[i - 1] > 0 && c > 0)) continue; // the same returns as returnStats
    const h = ranges.high[i];
    const l = ranges.low[i];
    if (!(h >= c && l <= c && l > 0)) {
      throw new ModelError(`bar ${i} of the window cannot be bootstrapped: high ${h}, low ${l}, close ${c} (need low <= close <= high, low > 0)`, { key: 'contextHighLow', row: i });
    }
    hi.push(h / c);
    lo.push(l / c);
  }
  return { highOverClose: Float64Array.from(hi), lowOverClose: Float64Array.from(lo) };
}

const MIN_CONTEXT: Record<BaselineSpec['kind'], number> = { naive: 2, trend: 6, historical: 3, oracle: 1 };

/** A baseline as a `Forecaster` (every window, every step, same Forecast contract). */
export class BaselineForecaster implements Forecaster {
  readonly info: ForecasterInfo;

  /**
   * @param spec - which baseline.
   * @param opts.lookback - closes read from the end of each window (default 512).
   * @param opts.maxHorizon - largest horizon (default 1024).
   */
  constructor(
    readonly spec: BaselineSpec,
    opts: { lookback?: number; maxHorizon?: number } = {},
  ) {
    const lookback = opts.lookback ?? 512;
    if (!Number.isInteger(lookback) || lookback < MIN_CONTEXT[spec.kind]) {
      throw new ConfigError(`lookback of ${spec.kind} must be an integer >= ${MIN_CONTEXT[spec.kind]}`, { key: 'lookback', value: lookback });
    }
    if (spec.kind === 'historical' && spec.bootstrap?.kind === 'stationary' && !(spec.bootstrap.meanBlock >= 1)) {
      throw new ConfigError('meanBlock of a stationary bootstrap must be >= 1', { key: 'bootstrap.meanBlock', value: spec.bootstrap.meanBlock });
    }
    this.info = {
      name: spec.kind,
      family: 'baseline',
      contextLength: lookback,
      minContext: MIN_CONTEXT[spec.kind],
      maxHorizon: opts.maxHorizon ?? 1024,
      quantileLevels: null,
    };
  }

  /**
   * Quantiles (levels of the request, default 0.1..0.9) and, with `samples: N`, paths.
   * @throws ModelError on bad windows or horizon; for `oracle`, when the request has no `future`.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const raw = toWindows(request.context);
    const windows = raw.map((w) => tail(w, this.info.contextLength));
    checkHorizon(request.horizon, this.info);
    const n = checkSamples(request.samples, 0);
    checkWindows(windows, this.info);
    const H = request.horizon;
    const levels = [...(request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    const quantiles = tensor3(windows.length, levels.length, H);
    const samples = n > 0 ? tensor3(windows.length, n, H) : undefined;
    const spec = this.spec;
    // Whole bars are bootstrapped only by `historical`, and only when the request has highs and lows.
    const bars = samples && spec.kind === 'historical' ? this.barRanges(request, raw) : null;
    const samplesHighLow = bars ? { high: tensor3(windows.length, n, H), low: tensor3(windows.length, n, H) } : undefined;
    if (spec.kind === 'oracle') {
      fillOracle(request, windows.length, H, quantiles, samples);
    } else {
      const rng = new Rng(request.seed ?? 0);
      windows.forEach((w, i) => {
        baselineQuantiles(spec, w, H, levels, quantiles.data, i * levels.length * H);
        const ranges = bars && samplesHighLow ? { ...bars[i], outHigh: samplesHighLow.high.data, outLow: samplesHighLow.low.data } : undefined;
        if (samples) baselinePaths(spec, w, H, n, rng.fork(`window ${i}`), samples.data, i * n * H, ranges);
      });
    }
    return {
      quantiles: { levels, values: quantiles },
      ...(samples ? { samples } : {}),
      ...(samplesHighLow ? { samplesHighLow } : {}),
      meta: {
        model: spec.kind,
        family: 'baseline',
        device: 'none',
        batch: windows.length,
        horizon: H,
        samples: n,
        samplesFrom: !samples ? 'none' : spec.kind === 'oracle' ? 'oracle' : spec.kind === 'historical' ? 'bootstrap' : 'normal',
        ...(samples && spec.kind === 'historical' ? { samplesMethod: bootstrapMethod(spec) } : {}),
        timings: { totalMs: performance.now() - t0, modelMs: 0, runs: 0 },
        fallback: { count: 0, forecaster: null, reasons: [] },
      },
    };
  }

  async close(): Promise<void> {}

  /** The request's highs and lows per window, cut like the closes; null when the request has none. */
  private barRanges(request: ForecastRequest, raw: Float64Array[]): { high: Float64Array; low: Float64Array }[] | null {
    const hl = request.contextHighLow;
    if (!hl) return null;
    const highs = toWindows(hl.high);
    const lows = toWindows(hl.low);
    if (highs.length !== raw.length || lows.length !== raw.length) {
      throw new ModelError(`contextHighLow has ${highs.length} high and ${lows.length} low windows for ${raw.length} context windows`, { key: 'contextHighLow' });
    }
    const L = this.info.contextLength;
    return raw.map((w, i) => {
      if (highs[i].length !== w.length || lows[i].length !== w.length) {
        throw new ModelError(`window ${i}: ${highs[i].length} highs and ${lows[i].length} lows for ${w.length} closes`, { key: 'contextHighLow', row: i });
      }
      return { high: tail(highs[i], L), low: tail(lows[i], L) };
    });
  }
}

function fillOracle(request: ForecastRequest, b: number, H: number, quantiles: Tensor3, samples: Tensor3 | undefined): void {
  const future = request.future;
  if (!future || future.length !== b) {
    throw new ModelError('oracle forecasts only inside evaluation, from the realised future: pass `future` with one array per window', { key: 'future' });
  }
  const fill = (t: Tensor3) => {
    const [, rows] = t.dims;
    for (let i = 0; i < b; i++) {
      if (future[i].length < H) throw new ModelError(`oracle needs ${H} future closes, window ${i} has ${future[i].length}`, { key: 'future', row: i });
      for (let r = 0; r < rows; r++) t.data.set(future[i].subarray(0, H), (i * rows + r) * H);
    }
  };
  fill(quantiles);
  if (samples) fill(samples);
}

/**
 * A baseline by name (`naive`, `trend`, `historical`, `oracle`).
 * @throws ConfigError on another name.
 * @example createBaseline('naive').info.minContext // 2
 */
export function createBaseline(name: string, opts: { lookback?: number; maxHorizon?: number } = {}): BaselineForecaster {
  if (!(BASELINE_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown model or baseline "${name}": give a model card (.json) or one of ${BASELINE_NAMES.join(', ')}`, { key: 'model', value: name });
  }
  return new BaselineForecaster({ kind: name as BaselineSpec['kind'] } as BaselineSpec, opts);
}
