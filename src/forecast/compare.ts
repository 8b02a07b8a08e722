/**
 * A leaderboard of forecasters evaluated walk-forward on the same origins in one pass over
 * the data: per forecaster the pooled scores of `quantbook eval`, each per-origin score's mean
 * with a HAC standard error, the CRPS of every step 1..h, and a Diebold-Mariano test of its
 * CRPS against the best forecaster's.
 *
 * Standard errors and the Diebold-Mariano statistic (Diebold and Mariano 1995, JBES 13(3)):
 * for per-origin losses x_t of each series (or loss differences d_t = L_i,t - L_best,t),
 *   V = (1 / T) sum_series [ sum_t e_t^2 + 2 sum_{k=1..m} (1 - k / (m + 1)) sum_t e_t e_{t-k} ],
 * e_t = x_t - mean(x), T the origins of all series, and SE = sqrt(V / T); DM = mean(d) / SE(d),
 * two-sided p from the standard normal. m = ceil(h / every) - 1: h-step forecasts from origins
 * `every` bars apart overlap for m lags, so their errors are autocorrelated up to lag m (the
 * DM paper's h - 1 at every = 1); Bartlett weights (Newey and West 1987) keep V >= 0.
 * Autocovariances are taken within each series only.
 */
import { ModelError } from '../core/errors';
import { normalCdf } from '../stats/normal';
import { parseAggregate } from './aggregate';
import { EvalAccumulator, type EvalMetrics, type EvalOptions } from './evaluate';
import { barsOfWindows, type SeriesBars } from './request';
import type { Forecaster } from './types';

/** One series on its bar grid (NaN = missing bar). */
export interface CompareSeries {
  symbol: string;
  closes: Float64Array;
  /** Bars aligned with the closes, for models that read them (Kronos). */
  bars?: SeriesBars;
}

/** A mean and its HAC standard error. */
export interface MeanSe {
  mean: number;
  se: number;
}

/** One forecaster's row of the leaderboard. */
export interface LeaderboardRow {
  name: string;
  /** The pooled scores, as `quantbook eval` prints them. */
  pooled: EvalMetrics;
  /** Mean per-origin CRPS (mean over steps), price units, with its SE. */
  crps: MeanSe;
  /** Mean per-origin |predicted - realised| h-step return, with its SE. */
  pctReturnMae: MeanSe;
  /** Mean per-origin share of steps inside [q0.1, q0.9], with its SE. */
  coverage80: MeanSe;
  /** Mean CRPS at steps 1..h. */
  crpsByStep: number[];
  /** PIT of the last step's outcome per origin, in origin order: share of paths at or below it. */
  pitLastStep: Float64Array;
  /** Diebold-Mariano test of this row's CRPS against the best row's (null for the best). */
  dm: { meanDiff: number; stat: number; pValue: number } | null;
}

/** What {@link compareForecasters} returns: rows sorted by mean CRPS, best first. */
export interface Leaderboard {
  rows: LeaderboardRow[];
  horizon: number;
  every: number;
  /** Origins scored per forecaster (the same for all). */
  origins: number;
  /** Lag m of the HAC variance. */
  hacLag: number;
}

/**
 * Mean and HAC standard error of per-origin values grouped by series (formula in the module doc).
 * @example hacMeanSe([Float64Array.of(1, 2, 3, 4)], 0).se // sqrt(1.25 / 4)
 */
export function hacMeanSe(groups: readonly Float64Array[], lag: number): MeanSe {
  let T = 0;
  let sum = 0;
  for (const g of groups) {
    for (const x of g) sum += x;
    T += g.length;
  }
  if (T === 0) return { mean: NaN, se: NaN };
  const mean = sum / T;
  let v = 0;
  for (const g of groups) {
    for (let t = 0; t < g.length; t++) v += (g[t] - mean) ** 2;
    for (let k = 1; k <= lag; k++) {
      const w = 1 - k / (lag + 1);
      for (let t = k; t < g.length; t++) v += 2 * w * (g[t] - mean) * (g[t - k] - mean);
    }
  }
  v /= T;
  return { mean, se: Math.sqrt(Math.max(0, v) / T) };
}

/**
 * Evaluates every forecaster on the same origins (one pass over the data: at each origin all
 * forecast before the next origin) and ranks them by mean CRPS.
 * @param entries - names (as printed) and forecasters.
 * @throws ModelError when a series is shorter than lookback + horizon, a forecaster gives no
 *   paths (CRPS needs them), or from the forecasters.
 * @example (await compareForecasters([{ name: 'naive', forecaster: naive }, { name: 'garch', forecaster: garch }], series, { horizon: 6, every: 24
 * })).rows[0].name
 */
export async function compareForecasters(entries: readonly { name: string; forecaster: Forecaster }[], series: readonly CompareSeries[],
  opts: EvalOptions): Promise<Leaderboard> {
  const H = opts.horizon;
  const every = opts.every ?? 1;
  const samples = opts.samples ?? 100;
  const aggregate = parseAggregate(opts.aggregate ?? 'median');
  const lookback = opts.lookback ?? Math.max(...entries.map((e) => e.forecaster.info.contextLength));
  const acc = entries.map(() => new EvalAccumulator(aggregate, opts.crpsFair));
  const crps = entries.map(() => [] as Float64Array[]);
  const pct = entries.map(() => [] as Float64Array[]);
  const cov = entries.map(() => [] as Float64Array[]);
  const byStep = entries.map(() => new Float64Array(H));
  const pit = entries.map(() => [] as number[]);
  let origins = 0;
  for (const s of series) {
    const closes = s.closes;
    if (closes.length < lookback + H) throw new ModelError(`series ${s.symbol} has ${closes.length} bars, fewer than lookback ${lookback} + horizon ${H}`, { key: 'lookback', symbol: s.symbol });
    const c: number[][] = entries.map(() => []);
    const p: number[][] = entries.map(() => []);
    const v: number[][] = entries.map(() => []);
    for (let t = lookback - 1; t + H < closes.length; t += every) {
      const window = closes.subarray(t + 1 - lookback, t + 1);
      const future = closes.subarray(t + 1, t + 1 + H);
      if (future.some((x) => !Number.isFinite(x))) {
        acc.forEach((a) => a.skippedMissingFuture++);
        continue;
      }
      origins++;
      for (let e = 0; e < entries.length; e++) {
        const t0 = performance.now();
        const f = await entries[e].forecaster.forecast({ context: [window], horizon: H, samples, seed: (opts.seed ?? 0) + t, sampling: opts.sampling,
          future: [future], origins: [{ stream: s.symbol, t }], contextBars: barsOfWindows(s.bars, [[t + 1 - lookback, t + 1]]) });
        // The per-origin scores are the pooled ones' terms, scored once (scores.ts).
        const scored = acc[e].add(window, future, f, performance.now() - t0);
        if (!f.samples || !scored.crpsByStep) throw new ModelError(`${entries[e].name} gave no paths: the leaderboard scores CRPS from paths (samples > 0)`, { key: 'samples' });
        const N = f.samples.dims[1];
        let sum = 0;
        for (let h = 0; h < H; h++) {
          byStep[e][h] += scored.crpsByStep[h];
          sum += scored.crpsByStep[h];
        }
        let below = 0;
        for (let j = 0; j < N; j++) below += f.samples.data[j * H + H - 1] <= future[H - 1] ? 1 : 0;
        pit[e].push(below / N);
        c[e].push(sum / H);
        p[e].push(scored.pctReturnError);
        if (scored.inside80 !== null) v[e].push(scored.inside80 / H);
      }
      if (origins % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    entries.forEach((_, e) => {
      crps[e].push(Float64Array.from(c[e]));
      pct[e].push(Float64Array.from(p[e]));
      cov[e].push(Float64Array.from(v[e]));
    });
  }
  const hacLag = Math.max(0, Math.ceil(H / every) - 1);
  const rows: LeaderboardRow[] = entries.map((en, e) => ({
    name: en.name,
    pooled: acc[e].result(),
    crps: hacMeanSe(crps[e], hacLag),
    pctReturnMae: hacMeanSe(pct[e], hacLag),
    coverage80: hacMeanSe(cov[e], hacLag),
    crpsByStep: Array.from(byStep[e], (x) => x / origins),
    pitLastStep: Float64Array.from(pit[e]),
    dm: null,
  }));
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].crps.mean - rows[b].crps.mean);
  const best = order[0];
  for (const i of order.slice(1)) {
    const diffs = crps[i].map((g, s) => g.map((x, t) => x - crps[best][s][t]));
    const d = hacMeanSe(diffs, hacLag);
    const stat = d.se > 0 ? d.mean / d.se : NaN;
    rows[i].dm = { meanDiff: d.mean, stat, pValue: Number.isFinite(stat) ? 2 * (1 - normalCdf(Math.abs(stat))) : NaN };
  }
  return { rows: order.map((i) => rows[i]), horizon: H, every, origins, hacLag };
}

/**
 * The leaderboard as a text table: one row per forecaster, best CRPS first.
 * @example formatLeaderboard(board).split('\n')[0] // 'rank  forecaster  crps  ...'
 */
export function formatLeaderboard(board: Leaderboard): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : String(x));
  const rows = [['rank', 'forecaster', 'crps', '+-se', 'pct_ret_mae', '+-se', 'cov80', '+-se', 'wql', 'DM vs best', 'p', 'fallbacks']];
  board.rows.forEach((r, i) =>
    rows.push([
      String(i + 1),
      r.name,
      f(r.crps.mean),
      f(r.crps.se),
      r.pctReturnMae.mean.toFixed(6),
      r.pctReturnMae.se.toFixed(6),
      r.coverage80.mean.toFixed(3),
      r.coverage80.se.toFixed(3),
      r.pooled.wql.toFixed(6),
      r.dm ? r.dm.stat.toFixed(2) : '(best)',
      r.dm ? r.dm.pValue.toFixed(3) : '',
      String(r.pooled.fallbacks),
    ]),
  );
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const lines = rows.map((r) => r.map((c, j) => (j === 1 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  '));
  const notes = [
    `${board.origins} origins per forecaster (horizon ${board.horizon}, every ${board.every}); crps in price units, mean over steps per origin; +-se: HAC (Bartlett, lag ${board.hacLag}) standard error`,
    'DM: Diebold-Mariano statistic of the CRPS difference against the best row (positive = worse), two-sided normal p',
  ];
  return [...lines, ...notes].join('\n');
}
