/**
 * The conformal layer: wraps any forecaster and adjusts its quantiles online from the outcomes it
 * has seen, without look-ahead, in two parts: a recalibration of the wrapped forecaster's levels
 * from a rolling window of its PITs (probability integral transforms; split-conformal on the score
 * u = F_in(y), cf. Kuleshov et al. 2018 and Romano et al. 2019's conformalised quantile regression,
 * here in level space), and on top of it adaptive conformal inference (ACI; Gibbs and Candes 2021,
 * "Adaptive conformal inference under distribution shift", NeurIPS), one recursion per central
 * interval and forecast step.
 *
 * For a nominal level q and step h the layer reports Q_out(q) = Q_in(q~), the wrapped
 * forecaster's quantile function at the effective level q~ = q + lambda_q (R_h(q) - q) + o_h(q):
 * - R_h(q) reads the stream's PITs u = F_in(y) (the level at which the forecast that made it put
 *   the outcome y) at split conformal's finite-sample rank q (W + 1) (a new PIT falls below the k-th
 *   of n exchangeable ones with probability k / (n + 1)), each weighted by its forecast's origin weight times
 *   (1 - pool) for PITs of step h plus pool / H for PITs of every step (partial pooling over
 *   steps), shrunk to q by `prior` origins: (W R + prior q) / (W + prior). PITs worth the newest
 *   `window` origins are kept. If the wrapped forecaster's PITs were uniform, R_h(q) = q.
 * - lambda_q, the trust in the recalibration, is chosen per stream and level pair (q, 1 - q) by
 *   follow-the-leader over the candidates `trust` (default 0, 1/4, 1/2, 3/4, 1; Cesa-Bianchi and
 *   Lugosi 2006, "Prediction, learning, and games", ch. 3): the candidate with the least cumulative
 *   quantile loss sum_t w_t [QL_q(y_t, Q_in,t(x_q,t)) + QL_{1-q}(y_t, Q_in,t(x_{1-q},t))] (QL as
 *   `quantileLoss`, w_t the origin weight), x the level the candidate would have used with the R_h and
 *   o_h of forecast t, over the stream's resolved outcomes; the smallest lambda on ties (0 before
 *   any outcome). The quantile loss is CRPS's decomposition by level (CRPS = int_0^1 QL_tau dtau,
 *   Gneiting and Raftery 2007), so each pair keeps the recalibration only as far as it has lowered
 *   the score: a forecaster that is already calibrated keeps its own levels (R_h then only adds the
 *   estimation noise of a rolling window), one with too wide or too narrow tails takes the PIT map.
 *   Warm-up forecasts (below) train R_h and o_h but are not scored: there R_h rests on a handful of
 *   PITs, its losses are those of a map still being estimated and made lambda = 0 lead for long
 *   after (crypto-5m, h = 6, scoring them too: EWMA 0.830 and GARCH 0.834 coverage instead of 0.814, 0.821).
 * - o_h is ACI's offset for the pair (q, 1 - q), q < 0.5 (miscoverage alpha = 2 q; the upper level
 *   uses R_h(1 - q) - o_h): when the outcome y of a forecast becomes known (h bars later),
 *   o_h <- o_h + gamma w (alpha - 1{y outside [Q_out(q), Q_out(1 - q)]}) / 2, w the origin weight.
 *   An interval that holds too many outcomes narrows, and vice versa; with w = 1 this is Gibbs
 *   and Candes' recursion on alpha~ = 2 q~, whose long-run miss frequency is within
 *   (max(alpha~_1, 1 - alpha~_1) + gamma) / (gamma T) of alpha for any outcome sequence. A level
 *   without its partner gets o <- o + gamma w (q - 1{y <= Q_out(q)}).
 * The origin weight of a forecast is min(1, gap to the stream's previous origin / H): forecasts
 * whose outcomes overlap those of the previous one count for the new outcomes they add, so a dense
 * warm-up (below) weighs about as much as the stretch of bars it covers, not as its count.
 * The median (0.5) is left where the wrapped forecaster puts it (its lambda is 0). q~ is clamped to [0, 1] when read;
 * effective levels of one step are sorted before use, so quantiles never cross.
 *
 * Q_in, when the request asks for paths, is the paths' own empirical quantile function
 * (linear between mid-rank positions (k + 1/2) / N), so the reported quantiles and paths
 * describe one distribution; paths are mapped step by step through the level map: a path's
 * close of rank r becomes Q_in(g((r + 1/2) / N)), g the piecewise-linear map through (0, 0),
 * (q, q~), (1, 1) (q~ = q leaves the paths unchanged; path ranks are kept). Without paths,
 * Q_in is the piecewise-linear quantile function through the wrapped quantiles, extended
 * linearly (forecasters that take any levels are also asked for 0.01, 0.025, 0.05, 0.95,
 * 0.975, 0.99). PITs invert the same Q_in (the middle of a flat stretch; 0 or 1 beyond its
 * range). Sampled highs and lows of the wrapped forecaster are not passed on (its closes are
 * remapped); the outlook then draws highs and lows by its Brownian bridge.
 *
 * No look-ahead: an outcome is used only by forecasts whose origin is at or after the bar of
 * that outcome. The state is per stream (`request.origins[i].stream`, e.g. a symbol) and the
 * bar index says when each outcome is known; origins of a stream must come in time order.
 * A stream seen for the first time is warmed up on its own window: the wrapped forecaster is
 * run at up to `warmUp` earlier origins inside the window (second half, outcomes inside the
 * window) and their outcomes scored as above, through the same quantile function Q_in as later
 * forecasts (paths when paths are asked for). A request without `origins` is stateless: each
 * window is warmed up on itself only.
 */
import { ConfigError, ModelError } from '../../core/errors';
import { quantileLoss } from '../metrics';
import { checkHorizon, checkSamples, lastObservedIndex, toWindows } from '../request';
import { DEFAULT_QUANTILE_LEVELS, isSamplingFamily, tensor3, type Forecast, type ForecastMeta, type ForecastRequest, type Forecaster, type ForecasterInfo } from '../types';
import { adjustWindow, innerQuantile, mixLevels, pairKey, partnerOf, pitOf, recalibratedLevels, type InnerDistribution, type Pit } from './levels';

/** Options of {@link ConformalForecaster}. */
export interface ConformalOptions {
  /** ACI step size gamma. Default 0.005. */
  gamma?: number;
  /** Earlier origins replayed inside the first window of a stream (0: none). Default 100. */
  warmUp?: number;
  /** Share of the PIT recalibration pooled over forecast steps (0: per step only, 1: all steps alike). Default 0.5. */
  pool?: number;
  /** Prior weight, in origins, that holds the recalibrated level at the nominal one. Default 2. */
  prior?: number;
  /** Origins (weighted) of PITs kept per stream, newest first. Default 250. */
  window?: number;
  /**
   * Candidate trust lambda in the recalibration (0: the wrapped forecaster's own levels, 1: the full
   * PIT map), one chosen per stream and level pair by follow-the-leader on the quantile loss.
   * Default [0, 0.25, 0.5, 0.75, 1]: both ends and an even grid between them (five candidates, so
   * the choice costs five quantile look-ups per level and outcome); [1] is the layer without the choice.
   */
  trust?: readonly number[];
}

/** What the layer did in one call, in `meta.calibration` (the shape `ForecastMeta` declares for a calibration wrapper). */
export type ConformalMeta = NonNullable<ForecastMeta['calibration']> & {
  method: 'conformal (PIT + ACI)';
  /** Trust lambda in the PIT recalibration per level, first window of the call. */
  trust: number[];
};

/** A forecast waiting for its outcomes. */
interface Pending {
  t: number;
  levels: number[];
  /** Reported quantiles [Q, H]. */
  values: Float64Array;
  /** Recalibrated levels R_h(q) [level][step] when the forecast was made (0.5 for the median). */
  recal: number[][];
  /** Signed ACI offsets [level][step] when the forecast was made (0 for the median). */
  offsets: number[][];
  inner: InnerDistribution;
  horizon: number;
  /** Origin weight min(1, gap to the stream's previous origin / horizon). */
  weight: number;
  /** Steps already scored (1..resolved). */
  resolved: number;
  /** Made in a stream's warm-up: trains the PIT map and ACI, not the trust scores. */
  warmUp: boolean;
}

interface StreamState {
  /** Known closes by bar index. */
  closes: Map<number, number>;
  /** ACI offset per nominal level (key: level; the lower one of a pair) and step (index h - 1). */
  offset: Map<number, number[]>;
  /** PITs of resolved outcomes, oldest first. */
  pits: Pit[];
  pending: Pending[];
  lastT: number;
  /** Bar of the stream's latest origin (warm-up included), for origin weights. */
  lastOrigin: number;
  /** Cumulative weighted quantile loss of each trust candidate per level pair (key: the lower level), on the stream's resolved outcomes. */
  loss: Map<number, Float64Array>;
}

/** Effective levels of a forecast, with the parts they are made of. */
interface Levels {
  /** Effective levels [level][step], clamped and sorted per step. */
  eff: number[][];
  recal: number[][];
  offsets: number[][];
  /** Trust lambda used per level (0 for the median). */
  trust: number[];
}


/** Tail levels asked of forecasters that take any levels, so the quantile function reaches past 0.1 / 0.9. */
const TAIL_LEVELS: readonly number[] = [0.01, 0.025, 0.05, 0.95, 0.975, 0.99];

/** The conformal layer around a forecaster. */
export class ConformalForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  readonly gamma: number;
  readonly warmUp: number;
  readonly pool: number;
  readonly prior: number;
  readonly window: number;
  readonly trust: readonly number[];
  private streams = new Map<string, StreamState>();

  /**
   * @param inner - the forecaster whose quantiles are adjusted.
   * @throws ConfigError for gamma outside (0, 1), a negative warm-up, pool outside [0, 1], a non-positive
   *   prior, a window under 1 origin, or no trust candidates or one outside [0, 1].
   */
  constructor(
    readonly inner: Forecaster,
    opts: ConformalOptions = {},
  ) {
    this.gamma = opts.gamma ?? 0.005;
    this.warmUp = opts.warmUp ?? 100;
    this.pool = opts.pool ?? 0.5;
    this.prior = opts.prior ?? 2;
    this.window = opts.window ?? 250;
    this.trust = [...(opts.trust ?? [0, 0.25, 0.5, 0.75, 1])].sort((a, b) => a - b);
    if (!(this.gamma > 0 && this.gamma < 1)) throw new ConfigError('conformal gamma must be in (0, 1)', { key: 'gamma', value: this.gamma });
    if (!Number.isInteger(this.warmUp) || this.warmUp < 0) throw new ConfigError('conformal warm-up must be a non-negative integer', { key: 'warmUp', value: this.warmUp });
    if (!(this.pool >= 0 && this.pool <= 1)) throw new ConfigError('conformal pool must be in [0, 1]', { key: 'pool', value: this.pool });
    if (!(this.prior > 0 && Number.isFinite(this.prior))) throw new ConfigError('conformal prior must be positive', { key: 'prior', value: this.prior });
    if (!(this.window >= 1 && Number.isFinite(this.window))) throw new ConfigError('conformal window must be at least 1 origin', { key: 'window', value: this.window });
    if (this.trust.length === 0 || !this.trust.every((x) => x >= 0 && x <= 1)) throw new ConfigError('conformal trust candidates must be one or more numbers in [0, 1]', { key: 'trust', value: this.trust.join(',') });
    this.info = { ...inner.info, name: `${inner.info.name}+conformal` };
  }

  /**
   * Effective levels of a stream per nominal level and step for a forecast of `horizon` steps made
   * now, or null for an unknown stream.
   */
  state(stream: string, horizon: number): Map<number, number[]> | null {
    const s = this.streams.get(stream);
    if (!s) return null;
    const levels = [...new Set([...s.offset.keys(), ...s.pits.length ? DEFAULT_QUANTILE_LEVELS : []])].sort((a, b) => a - b);
    const { eff } = this.effectiveLevels(s, levels, horizon);
    return new Map(levels.map((q, j) => [q, eff[j]]));
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
        st = { closes: new Map(), offset: new Map(), pits: [], pending: [], lastT: -Infinity, lastOrigin: -Infinity, loss: new Map() };
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
    let firstTrust: number[] = [];
    for (let i = 0; i < windows.length; i++) {
      const st = states[i];
      const t = origins ? origins[i].t : windows[i].length - 1;
      if (origins) {
        if (t < st.lastT) throw new ModelError(`origin ${t} of stream "${origins[i].stream}" is before ${st.lastT}: the conformal layer needs each stream's origins in time order`, { key: 'origins', row: i });
        recordCloses(st, windows[i], t);
        this.resolve(st, t, counters);
        st.lastT = t;
      }
      const lv = this.effectiveLevels(st, levels, H);
      if (i === 0) {
        firstEffective = lv.eff;
        firstTrust = lv.trust;
      }
      const { values, dist } = adjustWindow(inner, i, levels, lv.eff, H, quantiles.data, samples?.data);
      if (origins) pushPending(st, t, levels, values, lv, dist, H);
    }
    const calibration: ConformalMeta = { method: 'conformal (PIT + ACI)', gamma: this.gamma, warmUp: this.warmUp, levels, effective: firstEffective, trust: firstTrust, ...counters };
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
      const lv = this.effectiveLevels(st, levels, H);
      const { values, dist } = adjustWindow(inner, i, levels, lv.eff, H, scratch, pathScratch, 0);
      pushPending(st, bar, levels, values, lv, dist, H, true);
    });
    this.resolve(st, t, counters);
  }

  /**
   * Scores every pending (forecast, step) whose outcome bar is <= t, in outcome order: records the
   * outcome's PIT under the wrapped forecaster and applies the ACI update to the offsets, both
   * weighted by the forecast's origin weight.
   */
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
      const Q = innerQuantile(p.inner, p.horizon, h);
      st.pits.push({ u: pitOf(p.inner, p.horizon, h, y), weight: p.weight, h, horizon: p.horizon });
      if (!p.warmUp) this.scoreTrust(st, p, h, y, Q);
      const v = (j: number) => p.values[j * p.horizon + h - 1];
      const step = this.gamma * p.weight;
      p.levels.forEach((q, j) => {
        const partner = partnerOf(p.levels, j);
        if (q === 0.5 || (partner >= 0 && q > 0.5)) return; // the median stays; a pair is updated from its lower level
        const off = offsetArray(st, q, h);
        if (partner >= 0) {
          // central interval [Q(q), Q(1 - q)], miscoverage alpha = 2 q: alpha~ += gamma (alpha - miss), q~ = alpha~ / 2
          const miss = y < v(j) || y > v(partner) ? 1 : 0;
          off[h - 1] += step * (q - miss / 2);
        } else {
          off[h - 1] += step * (q - (y <= v(j) ? 1 : 0));
        }
      });
      counters.updates++;
    }
    st.pending = st.pending.filter((p) => p.resolved < p.horizon);
    // The rolling window: the newest PITs worth `window` origins.
    let kept = 0;
    let from = st.pits.length;
    while (from > 0 && kept + st.pits[from - 1].weight / st.pits[from - 1].horizon <= this.window) kept += st.pits[--from].weight / st.pits[from].horizon;
    if (from > 0) st.pits.splice(0, from);
    // Closes older than any pending origin are no longer needed.
    let oldest = t;
    for (const p of st.pending) oldest = Math.min(oldest, p.t);
    for (const k of st.closes.keys()) if (k <= oldest) st.closes.delete(k);
  }

  /**
   * Adds each trust candidate's quantile loss at step h of forecast p to the stream's losses per
   * level pair, weighted by the origin weight: level q's candidate lambda would have reported
   * Q_in(clamp(q + lambda (R_h(q) - q) + o)) with the forecast's own R and offsets.
   */
  private scoreTrust(st: StreamState, p: Pending, h: number, y: number, Q: (u: number) => number): void {
    p.levels.forEach((q, j) => {
      if (q === 0.5) return;
      const key = pairKey(p.levels, j);
      const loss = st.loss.get(key) ?? new Float64Array(this.trust.length);
      st.loss.set(key, loss);
      const r = p.recal[j][h - 1];
      const o = p.offsets[j][h - 1];
      this.trust.forEach((lambda, c) => (loss[c] += p.weight * quantileLoss(y, Q(Math.min(1, Math.max(0, q + lambda * (r - q) + o))), q)));
    });
  }

  /**
   * Effective levels [level][step] for a forecast of H steps: q + lambda (R_h(q) - q) (R_h the
   * weighted quantile of the stream's PITs, shrunk to q by the prior; lambda the trust candidate
   * with the least loss so far, the smallest on ties) plus the pair's ACI offset, clamped to [0, 1]
   * and sorted across levels per step. The median stays 0.5.
   */
  private effectiveLevels(st: StreamState, levels: readonly number[], H: number): Levels {
    const lower = levels.map((q, j) => (q === 0.5 ? -1 : partnerOf(levels, j) >= 0 && q > 0.5 ? partnerOf(levels, j) : j));
    const wanted = [...new Set(levels.filter((q) => q !== 0.5))].sort((a, b) => a - b);
    const recalByLevel = recalibratedLevels(st.pits, wanted, H, this.pool, this.prior);
    const recal = levels.map((q) => (q === 0.5 ? new Array<number>(H).fill(0.5) : recalByLevel.get(q)!));
    const offsets = levels.map((q, j) => {
      const off = q === 0.5 ? [] : (st.offset.get(levels[lower[j]]) ?? []);
      const sign = lower[j] === j ? 1 : -1;
      return Array.from({ length: H }, (_, h) => (h < off.length ? sign * off[h] : 0));
    });
    const trust = levels.map((q, j) => {
      if (q === 0.5) return 0;
      const loss = st.loss.get(pairKey(levels, j));
      if (!loss) return this.trust[0];
      let best = 0;
      for (let c = 1; c < this.trust.length; c++) if (loss[c] < loss[best]) best = c;
      return this.trust[best];
    });
    const eff = levels.map(() => new Array<number>(H));
    for (let h = 0; h < H; h++) mixLevels(levels, recal, offsets, trust, h).forEach((x, j) => (eff[j][h] = x));
    return { eff, recal, offsets, trust };
  }
}

/** Queues a forecast for scoring, with its origin weight min(1, gap / H) (1 for a stream's first origin). */
function pushPending(st: StreamState, t: number, levels: number[], values: Float64Array, lv: Levels, inner: InnerDistribution, H: number,
  warmUp = false): void {
  const weight = Number.isFinite(st.lastOrigin) ? Math.min(1, Math.max(0, t - st.lastOrigin) / H) : 1;
  st.lastOrigin = t;
  st.pending.push({ t, levels, values, recal: lv.recal, offsets: lv.offsets, inner, horizon: H, weight, resolved: 0, warmUp });
}

function recordCloses(st: StreamState, window: Float64Array, t: number): void {
  const offset = t - (window.length - 1);
  for (let i = 0; i < window.length; i++) st.closes.set(offset + i, window[i]);
}

function offsetArray(st: StreamState, q: number, h: number): number[] {
  let arr = st.offset.get(q);
  if (!arr) {
    arr = [];
    st.offset.set(q, arr);
  }
  while (arr.length < h) arr.push(0);
  return arr;
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
