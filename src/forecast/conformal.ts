/**
 * The conformal layer: wraps any forecaster and adjusts its quantiles online with adaptive
 * conformal inference (ACI; Gibbs and Candes 2021, "Adaptive conformal inference under
 * distribution shift", NeurIPS), one recursion per quantile level and forecast step.
 *
 * For a nominal level q and step h the layer keeps an effective level q~ (start q) and reports
 * Q_out(q) = Q_in(q~), the wrapped forecaster's quantile function at q~. Levels come in central
 * pairs (q, 1 - q), q < 0.5, with miscoverage alpha = 2 q; ACI runs on the pair's interval:
 * when the outcome y of a forecast becomes known (h bars later),
 *   alpha~ <- alpha~ + gamma (alpha - 1{y outside [Q_out(q), Q_out(1 - q)]}),  q~ = alpha~ / 2,
 * and the upper level uses 1 - q~. An interval that holds too many outcomes (too wide) narrows,
 * and vice versa. Gibbs and Candes show the long-run miss frequency is within
 * (max(alpha~_1, 1 - alpha~_1) + gamma) / (gamma T) of alpha for any outcome sequence. The
 * median (0.5) is left where the wrapped forecaster puts it; a level without its partner gets
 * the one-sided update q~ <- q~ + gamma (q - 1{y <= Q_out(q)}). q~ may leave [0, 1]; it is
 * clamped only when read. Effective levels of one step are sorted before use, so quantiles
 * never cross.
 *
 * Q_in, when the request asks for paths, is the paths' own empirical quantile function
 * (linear between mid-rank positions (k + 1/2) / N), so the reported quantiles and paths
 * describe one distribution; paths are mapped step by step through the level map: a path's
 * close of rank r becomes Q_in(g((r + 1/2) / N)), g the piecewise-linear map through (0, 0),
 * (q, q~), (1, 1) (q~ = q leaves the paths unchanged; path ranks are kept). Without paths,
 * Q_in is the piecewise-linear quantile function through the wrapped quantiles, extended
 * linearly (forecasters that take any levels are also asked for 0.01, 0.025, 0.05, 0.95,
 * 0.975, 0.99). The map need not be exact: ACI is a feedback loop and corrects any monotone
 * error of it. Sampled highs and lows of the wrapped forecaster are not passed on (its closes
 * are remapped); the outlook then draws highs and lows by its Brownian bridge.
 *
 * No look-ahead: an outcome is used only by forecasts whose origin is at or after the bar of
 * that outcome. The state is per stream (`request.origins[i].stream`, e.g. a symbol) and the
 * bar index says when each outcome is known; origins of a stream must come in time order.
 * A stream seen for the first time is warmed up on its own window: the wrapped forecaster is
 * run at up to `warmUp` earlier origins inside the window (second half, outcomes inside the
 * window) and the recursion replayed over them, through the same quantile function Q_in as
 * later forecasts (paths when paths are asked for). A request without `origins` is stateless:
 * each window is warmed up on itself only.
 */
import { ConfigError, ModelError } from '../core/errors';
import { quantileFunction } from './distribution';
import { checkHorizon, checkSamples, lastObservedIndex, toWindows } from './request';
import { DEFAULT_QUANTILE_LEVELS, isSamplingFamily, tensor3, type Forecast, type ForecastMeta, type ForecastRequest, type Forecaster, type ForecasterInfo } from './types';

/** Options of {@link ConformalForecaster}. */
export interface ConformalOptions {
  /** ACI step size gamma. Default 0.02. */
  gamma?: number;
  /** Earlier origins replayed inside the first window of a stream (0: none). Default 100. */
  warmUp?: number;
}

/** What the layer did in one call, in `meta.calibration` (the shape `ForecastMeta` declares for a calibration wrapper). */
export type ConformalMeta = NonNullable<ForecastMeta['calibration']> & { method: 'conformal (ACI)' };

/** A forecast waiting for its outcomes. */
interface Pending {
  t: number;
  levels: number[];
  /** Reported quantiles [Q, H]. */
  values: Float64Array;
  horizon: number;
  /** Steps already scored (1..resolved). */
  resolved: number;
}

interface StreamState {
  /** Known closes by bar index. */
  closes: Map<number, number>;
  /** Effective level per nominal level (key: level) and step (index h - 1). */
  effective: Map<number, number[]>;
  pending: Pending[];
  lastT: number;
}

/** Tail levels asked of forecasters that take any levels, so the quantile function reaches past 0.1 / 0.9. */
const TAIL_LEVELS: readonly number[] = [0.01, 0.025, 0.05, 0.95, 0.975, 0.99];

/** The conformal layer around a forecaster. */
export class ConformalForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  readonly gamma: number;
  readonly warmUp: number;
  private streams = new Map<string, StreamState>();

  /**
   * @param inner - the forecaster whose quantiles are adjusted.
   * @throws ConfigError for gamma outside (0, 1) or a negative warm-up.
   */
  constructor(
    readonly inner: Forecaster,
    opts: ConformalOptions = {},
  ) {
    this.gamma = opts.gamma ?? 0.02;
    this.warmUp = opts.warmUp ?? 100;
    if (!(this.gamma > 0 && this.gamma < 1)) throw new ConfigError('conformal gamma must be in (0, 1)', { key: 'gamma', value: this.gamma });
    if (!Number.isInteger(this.warmUp) || this.warmUp < 0) throw new ConfigError('conformal warm-up must be a non-negative integer', { key: 'warmUp', value: this.warmUp });
    this.info = { ...inner.info, name: `${inner.info.name}+conformal` };
  }

  /** Effective levels of a stream per nominal level and step (a copy), or null for an unknown stream. */
  state(stream: string): Map<number, number[]> | null {
    const s = this.streams.get(stream);
    return s ? new Map([...s.effective].map(([k, v]) => [k, [...v]])) : null;
  }

  /**
   * Forecasts with the wrapped forecaster and adjusts its quantiles (and paths) by ACI.
   * @throws ModelError from the wrapped forecaster, for origins that do not match the windows,
   *   or an origin earlier than the last one seen on its stream.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const windows = toWindows(request.context);
    checkHorizon(request.horizon, this.info);
    const n = checkSamples(request.samples, 0);
    const H = request.horizon;
    const levels = [...(this.inner.info.quantileLevels ?? request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)].sort((a, b) => a - b);
    const origins = request.origins;
    if (origins && origins.length !== windows.length) {
      throw new ModelError(`${origins.length} origins for ${windows.length} windows`, { key: 'origins' });
    }
    const counters = { updates: 0, skippedMissing: 0 };
    // Streams seen for the first time in this call are warmed up on their first window.
    const states: StreamState[] = [];
    for (let i = 0; i < windows.length; i++) {
      const key = origins ? origins[i].stream : null;
      let st = key !== null ? this.streams.get(key) : undefined;
      if (!st) {
        st = { closes: new Map(), effective: new Map(), pending: [], lastT: -Infinity };
        const t = origins ? origins[i].t : windows[i].length - 1;
        await this.warm(st, windows[i], t, request, levels, counters);
        if (key !== null) this.streams.set(key, st);
      }
      states.push(st);
    }
    const inner = await this.inner.forecast(this.innerRequest(request, levels));
    const quantiles = tensor3(windows.length, levels.length, H);
    const samples = n > 0 && inner.samples ? tensor3(windows.length, n, H) : undefined;
    let firstEffective: number[][] = [];
    for (let i = 0; i < windows.length; i++) {
      const st = states[i];
      const t = origins ? origins[i].t : windows[i].length - 1;
      if (origins) {
        if (t < st.lastT) throw new ModelError(`origin ${t} of stream "${origins[i].stream}" is before ${st.lastT}: the conformal layer needs each stream's origins in time order`, { key: 'origins', row: i });
        recordCloses(st, windows[i], t);
        this.resolve(st, t, counters);
        st.lastT = t;
      }
      const eff = effectiveLevels(st, levels, H);
      if (i === 0) firstEffective = eff;
      const values = adjustWindow(inner, i, levels, eff, H, quantiles.data, samples?.data);
      if (origins) st.pending.push({ t, levels, values, horizon: H, resolved: 0 });
    }
    const calibration: ConformalMeta = { method: 'conformal (ACI)', gamma: this.gamma, warmUp: this.warmUp, levels, effective: firstEffective, ...counters };
    const meta: ForecastMeta = {
      ...inner.meta,
      model: `${inner.meta.model}+conformal`,
      samples: samples ? n : 0,
      timings: { ...inner.meta.timings, totalMs: performance.now() - t0 },
      calibration,
    };
    return { quantiles: { levels, values: quantiles }, ...(samples ? { samples } : {}), meta };
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  /** The wrapped request, without origins; forecasters that take any levels are also asked for tail levels. */
  private innerRequest(request: ForecastRequest, levels: number[]): ForecastRequest {
    const { origins: _origins, ...rest } = request;
    void _origins;
    const unbound = !this.inner.info.quantileLevels;
    return { ...rest, quantileLevels: unbound ? [...new Set([...TAIL_LEVELS, ...levels])].sort((a, b) => a - b) : levels };
  }

  /** Replays the recursion over earlier origins inside `window` (no paths; quantiles only). */
  private async warm(st: StreamState, window: Float64Array, t: number, request: ForecastRequest, levels: number[],
    counters: { updates: number; skippedMissing: number }): Promise<void> {
    const L = window.length;
    const H = request.horizon;
    const last = L - 1 - H; // the latest origin whose outcomes all lie inside the window
    const first = Math.max(Math.floor(L / 2), this.inner.info.minContext);
    if (this.warmUp === 0 || last < first) return;
    const count = Math.min(this.warmUp, last - first + 1);
    const positions: number[] = [];
    for (let k = 0; k < count; k++) positions.push(last - Math.round(((count - 1 - k) * (last - first)) / Math.max(1, count - 1)));
    const subs = positions.map((p) => window.subarray(0, p + 1)).filter((w) => lastObservedIndex(w) >= 0);
    if (subs.length !== positions.length) return;
    // Highs, lows and bars belong to the request's windows, not to these shorter ones: a model that
    // reads bars (Kronos) says in its meta that it ran on closes for the warm-up.
    const { future: _f, contextHighLow: _hl, contextBars: _cb, ...base } = request;
    void _f;
    void _hl;
    void _cb;
    // The warm-up forecasts go through the same quantile function Q_in as the later ones: the
    // paths' when the request asks for paths (a forecaster's analytic quantiles can be much wider
    // than its paths': historical's normal 80% interval held 0.90 of the crypto-5m outcomes, its
    // bootstrap paths' 0.82, so levels learnt on one over-narrowed the other), quantiles otherwise.
    const paths = checkSamples(request.samples, 0) > 0 || isSamplingFamily(this.inner.info.family);
    const inner = await this.inner.forecast(this.innerRequest({ ...base, context: subs, samples: paths ? request.samples || undefined : 0 }, levels));
    recordCloses(st, window, t);
    const offset = t - (L - 1);
    const scratch = new Float64Array(levels.length * H);
    const pathScratch = inner.samples ? new Float64Array(inner.samples.data.length) : undefined;
    positions.forEach((p, i) => {
      const bar = offset + p;
      this.resolve(st, bar, counters);
      const eff = effectiveLevels(st, levels, H);
      const values = adjustWindow(inner, i, levels, eff, H, scratch, pathScratch, 0);
      st.pending.push({ t: bar, levels, values, horizon: H, resolved: 0 });
    });
    this.resolve(st, t, counters);
  }

  /** Applies the ACI update for every pending (forecast, step) whose outcome bar is <= t, in outcome order. */
  private resolve(st: StreamState, t: number, counters: { updates: number; skippedMissing: number }): void {
    const due: { bar: number; p: Pending; h: number }[] = [];
    for (const p of st.pending) {
      for (let h = p.resolved + 1; h <= p.horizon && p.t + h <= t; h++) due.push({ bar: p.t + h, p, h });
    }
    due.sort((a, b) => a.bar - b.bar || a.p.t - b.p.t);
    for (const { bar, p, h } of due) {
      p.resolved = h;
      const y = st.closes.get(bar);
      if (y === undefined || !Number.isFinite(y)) {
        counters.skippedMissing++;
        continue;
      }
      const v = (j: number) => p.values[j * p.horizon + h - 1];
      p.levels.forEach((q, j) => {
        const partner = partnerOf(p.levels, j);
        if (q === 0.5 || (partner >= 0 && q > 0.5)) return; // the median stays; a pair is updated from its lower level
        const eff = levelArray(st, q, h);
        if (partner >= 0) {
          // central interval [Q(q), Q(1 - q)], miscoverage alpha = 2 q: alpha~ += gamma (alpha - miss), q~ = alpha~ / 2
          const miss = y < v(j) || y > v(partner) ? 1 : 0;
          eff[h - 1] += this.gamma * (q - miss / 2);
        } else {
          eff[h - 1] += this.gamma * (q - (y <= v(j) ? 1 : 0));
        }
      });
      counters.updates++;
    }
    st.pending = st.pending.filter((p) => p.resolved < p.horizon);
    // Closes older than any pending origin are no longer needed.
    let oldest = t;
    for (const p of st.pending) oldest = Math.min(oldest, p.t);
    for (const k of st.closes.keys()) if (k <= oldest) st.closes.delete(k);
  }
}

function recordCloses(st: StreamState, window: Float64Array, t: number): void {
  const offset = t - (window.length - 1);
  for (let i = 0; i < window.length; i++) st.closes.set(offset + i, window[i]);
}

function levelArray(st: StreamState, q: number, h: number): number[] {
  let arr = st.effective.get(q);
  if (!arr) {
    arr = [];
    st.effective.set(q, arr);
  }
  while (arr.length < h) arr.push(q);
  return arr;
}

/** Index of the level 1 - levels[j] (to 1e-9), or -1; the median has none. */
function partnerOf(levels: readonly number[], j: number): number {
  const q = levels[j];
  if (q === 0.5) return -1;
  return levels.findIndex((x) => Math.abs(x - (1 - q)) < 1e-9);
}

/** Effective levels [level][step], clamped to [0, 1] and sorted across levels per step. */
function effectiveLevels(st: StreamState, levels: readonly number[], H: number): number[][] {
  const out = levels.map((q, j) => {
    if (q === 0.5) return new Array<number>(H).fill(0.5);
    const partner = partnerOf(levels, j);
    const upper = partner >= 0 && q > 0.5;
    const key = upper ? levels[partner] : q;
    const arr = st.effective.get(key) ?? [];
    return Array.from({ length: H }, (_, h) => {
      const lower = h < arr.length ? arr[h] : key;
      return Math.min(1, Math.max(0, upper ? 1 - lower : lower));
    });
  });
  for (let h = 0; h < H; h++) {
    const col = out.map((r) => r[h]).sort((a, b) => a - b);
    out.forEach((r, j) => (r[h] = col[j]));
  }
  return out;
}

/**
 * Writes window i's adjusted quantiles into out[offset..] (and paths into samplesOut) and
 * returns the reported quantiles [Q, H].
 */
function adjustWindow(inner: Forecast, i: number, levels: readonly number[], eff: number[][], H: number, out: Float64Array,
  samplesOut: Float64Array | undefined, offset = i * levels.length * H): Float64Array {
  const values = new Float64Array(levels.length * H);
  const s = inner.samples;
  const q = inner.quantiles;
  const knotsX = [0, ...levels, 1];
  for (let h = 0; h < H; h++) {
    let Q: (u: number) => number;
    let sorted: Float64Array | null = null;
    if (s && samplesOut) {
      const N = s.dims[1];
      const col = new Float64Array(N);
      for (let j = 0; j < N; j++) col[j] = s.data[(i * N + j) * H + h];
      col.sort();
      sorted = col;
      Q = (u) => midRankQuantile(col, u);
    } else {
      if (!q) throw new ModelError(`${inner.meta.model} gave neither paths nor quantiles to calibrate`, { key: 'quantiles' });
      const [, nq] = q.values.dims;
      const vals = q.values.data.subarray(i * nq * H, (i + 1) * nq * H);
      const col = Float64Array.from({ length: nq }, (_, j) => vals[j * H + h]);
      Q = (u) => quantileFunction(q.levels, col, u);
    }
    levels.forEach((_, j) => {
      const v = Q(eff[j][h]);
      values[j * H + h] = v;
      out[offset + j * H + h] = v;
    });
    if (s && samplesOut && sorted) {
      const N = s.dims[1];
      const col = sorted;
      const knotsY = [0, ...eff.map((r) => r[h]), 1];
      // rank of each path's close at this step (stable for ties)
      const idx = Array.from({ length: N }, (_, j) => j).sort((a, b) => s.data[(i * N + a) * H + h] - s.data[(i * N + b) * H + h] || a - b);
      idx.forEach((j, r) => {
        const u = (r + 0.5) / N;
        samplesOut[(i * N + j) * H + h] = midRankQuantile(col, piecewiseLinear(knotsX, knotsY, u));
      });
    }
  }
  return values;
}

/**
 * Empirical quantile of sorted values at mid-rank positions: linear between sorted[k] at
 * u = (k + 1/2) / N, flat beyond the outer ones.
 * @example midRankQuantile(Float64Array.of(1, 3), 0.5) // 2
 */
export function midRankQuantile(sorted: Float64Array, u: number): number {
  const N = sorted.length;
  const pos = u * N - 0.5;
  if (pos <= 0) return sorted[0];
  if (pos >= N - 1) return sorted[N - 1];
  const k = Math.floor(pos);
  const f = pos - k;
  return sorted[k] + f * (sorted[k + 1] - sorted[k]);
}

function piecewiseLinear(xs: readonly number[], ys: readonly number[], x: number): number {
  let k = 0;
  while (k < xs.length - 2 && x > xs[k + 1]) k++;
  const dx = xs[k + 1] - xs[k];
  return dx > 0 ? ys[k] + ((x - xs[k]) * (ys[k + 1] - ys[k])) / dx : ys[k];
}

/**
 * Wraps a forecaster in the conformal layer when asked (`calibrate: 'conformal'`), else returns it.
 * @throws ConfigError on another value.
 * @example withCalibration(await openModel('garch'), 'conformal').info.name // 'garch+conformal'
 */
export function withCalibration(forecaster: Forecaster, calibrate: string | undefined, opts: ConformalOptions = {}): Forecaster {
  if (calibrate === undefined || calibrate === 'none') return forecaster;
  if (calibrate === 'conformal') return new ConformalForecaster(forecaster, opts);
  throw new ConfigError(`unknown calibration "${calibrate}" (use none or conformal)`, { key: 'calibrate', value: calibrate });
}

/** Values accepted by `--calibrate`. */
export const CALIBRATIONS = ['none', 'conformal'] as const;
