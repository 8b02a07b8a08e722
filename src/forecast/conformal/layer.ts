/**
 * The conformal layer: wraps any forecaster and adjusts its quantiles online from the outcomes it
 * has seen, without look-ahead, in two parts: a recalibration of the wrapped forecaster's levels
 * from a rolling window of its PITs (probability integral transforms; split-conformal on the score
 * u = F_in(y), cf. Kuleshov et al. 2018 and Romano et al. 2019's conformalised quantile regression,
 * here in level space), and on top of it adaptive conformal inference (ACI; Gibbs and Candes 2021,
 * "Adaptive conformal inference under distribution shift", NeurIPS), one recursion per central
 * interval, shared by the forecast steps.
 *
 * For a nominal level q and step h the layer reports Q_out(q) = sum_c w_c Q_in(x_c), the weighted mean
 * of the wrapped forecaster's quantile function Q_in at the levels of the trust candidates lambda_c,
 * x_c = q + lambda_c (R_h(q) - q) + o(q):
 * - R_h(q) reads the stream's PITs u = F_in(y) (the level at which the forecast that made it put
 *   the outcome y) at split conformal's finite-sample rank q (W + 1) (a new PIT falls below the k-th
 *   of n exchangeable ones with probability k / (n + 1)), each weighted by its forecast's origin weight times
 *   (1 - pool) for PITs of step h plus pool / H for PITs of every step (partial pooling over
 *   steps), shrunk to q by `prior` origins: (W R + prior q) / (W + prior). PITs worth the newest
 *   `window` origins are kept. If the wrapped forecaster's PITs were uniform, R_h(q) = q.
 * - the weights w_c of the trust candidates `trust` (default lambda = 0, 1/4, 1/2, 3/4, 1: from the
 *   wrapped forecaster's own levels to the full PIT map) are AdaHedge's (exponentially weighted
 *   aggregation with a learning rate tuned from the losses themselves; de Rooij, van Erven, Grunwald and
 *   Koolen 2014, "Follow the leader if you can, hedge if you must", JMLR 15; see {@link AdaHedge}),
 *   per stream and level pair (q, 1 - q): w_c proportional to exp(-eta L_c), L_c the cumulative loss
 *   sum_t w_t [QL_q(y_t, Q_in,t(x_q,t)) + QL_{1-q}(y_t, Q_in,t(x_{1-q},t))] (QL as `quantileLoss`, w_t
 *   the origin weight, x the level candidate c would have used with the R_h and o of forecast t),
 *   uniform before any outcome. The quantile loss is CRPS's decomposition by level (CRPS = int_0^1
 *   QL_tau dtau, Gneiting and Raftery 2007) and convex in the quantile, so the mixture's cumulative loss
 *   is at most the weighted mean of the candidates', and that is within AdaHedge's regret,
 *   O(S sqrt(T ln K)), of the best candidate's, lambda = 0 (the wrapped forecaster's levels, with the
 *   offset) included: a forecaster that is already calibrated keeps about its own levels, one with
 *   too wide or too narrow tails takes the PIT map. Warm-up forecasts (below) are scored too (their
 *   outcomes lie before the stream's first origin). Follow-the-leader (all weight on the least loss so
 *   far) measured about alike on crypto-5m but has no such bound: a sequence whose losses alternate
 *   makes it pick the worse candidate every round.
 * - o is ACI's offset for the pair (q, 1 - q), q < 0.5 (miscoverage alpha = 2 q; the upper level
 *   uses R_h(1 - q) - o), one per pair for all steps: when the outcome y of a forecast at any step
 *   becomes known, o <- o + gamma w (alpha - 1{y outside [Q_out(q), Q_out(1 - q)]}) / 2, w the origin
 *   weight. An interval that holds too many outcomes narrows, and vice versa; with w = 1 this is Gibbs
 *   and Candes' recursion on alpha~ = 2 q~ over the stream's outcomes in the order they become known,
 *   whose long-run miss frequency over all steps is within (max(alpha~_1, 1 - alpha~_1) + gamma) / (gamma T)
 *   of alpha for any outcome sequence (as far as the mixture lets o reach every level). The shape over
 *   steps is R_h's; one offset per pair gets H times the updates of one per step (at h = 30 on crypto-5m
 *   per-step offsets moved too little to take naive's 0.917 below 0.83), hence the smaller default gamma.
 *   A level without its partner gets o <- o + gamma w (q - 1{y <= Q_out(q)}).
 * The origin weight of a forecast is min(1, gap to the stream's previous origin / H): forecasts
 * whose outcomes overlap those of the previous one count for the new outcomes they add, so a dense
 * warm-up (below) weighs about as much as the stretch of bars it covers, not as its count.
 * The median (0.5) is left where the wrapped forecaster puts it (its lambda is 0). Each x_c is clamped
 * to [0, 1]; the effective level q~ of Q_out(q) is the level where Q_in reaches it (q~ = x_c when all
 * weighted candidates agree). The quantiles of one step are sorted before use, so they never cross;
 * `meta.calibration.reordered` counts the steps where that moved anything.
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
import { AdaHedge } from './hedge';
import { adjustWindow, expertLevel, innerQuantile, levelOf, pairKey, partnerOf, pitOf, recalibratedLevels, type InnerDistribution, type LevelMixture, type Pit } from './levels';

/** Options of {@link ConformalForecaster}. */
export interface ConformalOptions {
  /** ACI step size gamma, per outcome (one offset per level pair, updated at every step). Default 0.002. */
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
   * PIT map), mixed per stream and level pair with AdaHedge weights on their quantile losses.
   * Default [0, 0.25, 0.5, 0.75, 1]: both ends and an even grid between them (five candidates, so
   * the mixture costs five quantile look-ups per level and step); [1] is the layer without the choice.
   */
  trust?: readonly number[];
}

/** What the layer did in one call, in `meta.calibration` (the shape `ForecastMeta` declares for a calibration wrapper). */
export type ConformalMeta = NonNullable<ForecastMeta['calibration']> & {
  method: 'conformal (PIT + ACI)';
  /** Trust lambda in the PIT recalibration per level, first window of the call: the candidates' lambdas averaged with their AdaHedge weights. */
  trust: number[];
  /** (window, step) pairs whose mixed quantiles crossed and were sorted back into order, warm-ups included. */
  reordered: number;
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
  /** Trust weights and AdaHedge rate per level pair (key: pairKey) when the forecast was made. */
  mix: Map<number, { w: Float64Array; eta: number }>;
}

interface StreamState {
  /** Known closes by bar index. */
  closes: Map<number, number>;
  /** ACI offset per nominal level (key: level; the lower one of a pair), shared by all steps. */
  offset: Map<number, number>;
  /** PITs of resolved outcomes, oldest first. */
  pits: Pit[];
  pending: Pending[];
  lastT: number;
  /** Bar of the stream's latest origin (warm-up included), for origin weights. */
  lastOrigin: number;
  /** Aggregation of the trust candidates per level pair (key: the lower level): their cumulative weighted quantile loss on the stream's resolved outcomes. */
  hedge: Map<number, AdaHedge>;
}

/** The experts of a forecast, with what they are made of. */
interface Levels extends LevelMixture {
  /** Weighted mean trust lambda per level (0 for the median). */
  trust: number[];
  /** Weights and rate per level pair, for scoring. */
  pairs: Map<number, { w: Float64Array; eta: number }>;
}


/** What the layer counts in one call. */
interface Counters {
  updates: number;
  skippedMissing: number;
  reordered: number;
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
    this.gamma = opts.gamma ?? 0.002;
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
   * now, or null for an unknown stream: the trust candidates' levels averaged with their weights
   * (a forecast averages their quantiles instead, so its levels differ where Q_in bends), sorted per step.
   */
  state(stream: string, horizon: number): Map<number, number[]> | null {
    const s = this.streams.get(stream);
    if (!s) return null;
    const levels = [...new Set([...s.offset.keys(), ...s.pits.length ? DEFAULT_QUANTILE_LEVELS : []])].sort((a, b) => a - b);
    const m = this.effectiveLevels(s, levels, horizon);
    const eff = levels.map(() => new Array<number>(horizon));
    for (let h = 0; h < horizon; h++) {
      levels
        .map((_, j) => this.trust.reduce((acc, _l, c) => acc + m.weights[j][c] * expertLevel(levels, m, j, h, c), 0))
        .sort((a, b) => a - b)
        .forEach((x, j) => (eff[j][h] = x));
    }
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
    const counters = { updates: 0, skippedMissing: 0, reordered: 0 };
    // Streams seen for the first time in this call are warmed up on their first window.
    const states: StreamState[] = [];
    for (let i = 0; i < windows.length; i++) {
      const key = origins ? origins[i].stream : null;
      let st = key !== null ? this.streams.get(key) : undefined;
      if (!st) {
        st = { closes: new Map(), offset: new Map(), pits: [], pending: [], lastT: -Infinity, lastOrigin: -Infinity, hedge: new Map() };
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
      const { values, dist, eff, reordered } = adjustWindow(inner, i, levels, lv, H, quantiles.data, samples?.data);
      counters.reordered += reordered;
      if (i === 0) {
        firstEffective = eff;
        firstTrust = lv.trust;
      }
      if (origins) pushPending(st, t, levels, values, lv, dist, H);
    }
    const calibration: ConformalMeta = { method: 'conformal (PIT + ACI)', gamma: this.gamma, warmUp: this.warmUp, levels, effective: firstEffective, trust: firstTrust,
      ...counters };
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
    counters: Counters): Promise<void> {
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
      const { values, dist, reordered } = adjustWindow(inner, i, levels, lv, H, scratch, pathScratch, 0);
      counters.reordered += reordered;
      pushPending(st, bar, levels, values, lv, dist, H);
    });
    this.resolve(st, t, counters);
  }

  /**
   * Scores every pending (forecast, step) whose outcome bar is <= t, in outcome order: records the
   * outcome's PIT under the wrapped forecaster and applies the ACI update to the offsets, both
   * weighted by the forecast's origin weight.
   */
  private resolve(st: StreamState, t: number, counters: Counters): void {
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
      this.scoreTrust(st, p, h, y, Q);
      const v = (j: number) => p.values[j * p.horizon + h - 1];
      const step = this.gamma * p.weight;
      p.levels.forEach((q, j) => {
        const partner = partnerOf(p.levels, j);
        if (q === 0.5 || (partner >= 0 && q > 0.5)) return; // the median stays; a pair is updated from its lower level
        const o = st.offset.get(q) ?? 0;
        if (partner >= 0) {
          // central interval [Q(q), Q(1 - q)], miscoverage alpha = 2 q: alpha~ += gamma (alpha - miss), q~ = alpha~ / 2
          const miss = y < v(j) || y > v(partner) ? 1 : 0;
          st.offset.set(q, o + step * (q - miss / 2));
        } else {
          st.offset.set(q, o + step * (q - (y <= v(j) ? 1 : 0)));
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
   * Scores the trust candidates on the outcome y at step h of forecast p, one round per level pair:
   * candidate lambda's loss is w [QL_q(y, Q_in(x_q)) + QL_{1-q}(y, Q_in(x_{1-q}))], x = clamp(q + lambda
   * (R_h(q) - q) + o) with the forecast's own R and offsets, w its origin weight; the pair's aggregation
   * takes the round with the weights and rate the forecast was made with.
   */
  private scoreTrust(st: StreamState, p: Pending, h: number, y: number, Q: (u: number) => number): void {
    const rounds = new Map<number, Float64Array>();
    p.levels.forEach((q, j) => {
      if (q === 0.5) return;
      const key = pairKey(p.levels, j);
      const loss = rounds.get(key) ?? new Float64Array(this.trust.length);
      rounds.set(key, loss);
      const r = p.recal[j][h - 1];
      const o = p.offsets[j][h - 1];
      this.trust.forEach((lambda, c) => (loss[c] += p.weight * quantileLoss(y, Q(levelOf(lambda, q, r, o)), q)));
    });
    for (const [key, loss] of rounds) {
      const agg = st.hedge.get(key) ?? new AdaHedge(this.trust.length);
      st.hedge.set(key, agg);
      const used = p.mix.get(key) ?? agg.weights();
      agg.update(loss, used.w, used.eta);
    }
  }

  /**
   * The experts of a forecast of H steps per level: candidate lambda reads level q at
   * q + lambda (R_h(q) - q) (R_h the weighted quantile of the stream's PITs, shrunk to q by the prior)
   * plus the pair's ACI offset, clamped to [0, 1]; their weights per level pair are AdaHedge's on the
   * pair's scored outcomes (uniform before any). The median stays 0.5.
   */
  private effectiveLevels(st: StreamState, levels: readonly number[], H: number): Levels {
    const lower = levels.map((q, j) => (q === 0.5 ? -1 : partnerOf(levels, j) >= 0 && q > 0.5 ? partnerOf(levels, j) : j));
    const wanted = [...new Set(levels.filter((q) => q !== 0.5))].sort((a, b) => a - b);
    const recalByLevel = recalibratedLevels(st.pits, wanted, H, this.pool, this.prior);
    const recal = levels.map((q) => (q === 0.5 ? new Array<number>(H).fill(0.5) : recalByLevel.get(q)!));
    const offsets = levels.map((q, j) => {
      const off = q === 0.5 ? 0 : (st.offset.get(levels[lower[j]]) ?? 0);
      return new Array<number>(H).fill(lower[j] === j ? off : -off);
    });
    const K = this.trust.length;
    const pairs = new Map<number, { w: Float64Array; eta: number }>();
    const weights = levels.map((q, j) => {
      if (q === 0.5) return Float64Array.from({ length: K }, (_, c) => (c === 0 ? 1 : 0));
      const key = pairKey(levels, j);
      const known = pairs.get(key);
      if (known) return known.w;
      const mix = (st.hedge.get(key) ?? new AdaHedge(K)).weights();
      pairs.set(key, mix);
      return mix.w;
    });
    const trust = weights.map((w, j) => (levels[j] === 0.5 ? 0 : this.trust.reduce((acc, lambda, c) => acc + w[c] * lambda, 0)));
    return { lambdas: this.trust, recal, offsets, weights, trust, pairs };
  }
}

/** Queues a forecast for scoring, with its origin weight min(1, gap / H) (1 for a stream's first origin). */
function pushPending(st: StreamState, t: number, levels: number[], values: Float64Array, lv: Levels, inner: InnerDistribution, H: number): void {
  const weight = Number.isFinite(st.lastOrigin) ? Math.min(1, Math.max(0, t - st.lastOrigin) / H) : 1;
  st.lastOrigin = t;
  st.pending.push({ t, levels, values, recal: lv.recal, offsets: lv.offsets, inner, horizon: H, weight, resolved: 0, mix: lv.pairs });
}

function recordCloses(st: StreamState, window: Float64Array, t: number): void {
  const offset = t - (window.length - 1);
  for (let i = 0; i < window.length; i++) st.closes.set(offset + i, window[i]);
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
