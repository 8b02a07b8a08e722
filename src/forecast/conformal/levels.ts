/**
 * The conformal layer's level-space helpers: the wrapped forecaster's quantile function Q_in per
 * step (paths' mid-rank quantiles or the wrapped quantiles), PITs under it, the recalibration map
 * R_h(q) from a window of PITs, the effective levels of one step, and the adjusted quantiles and
 * paths of one window. See ./layer for the recursion that uses them.
 */
import { ModelError } from '../../core/errors';
import { stableOrder } from '../../stats/order';
import { quantileFunction } from '../distribution';
import type { Forecast } from '../types';

/** The wrapped forecaster's distribution per step, as the layer read it (its Q_in). */
export type InnerDistribution =
  | { kind: 'paths'; n: number; /** Sorted closes per step, [H, N]. */ sorted: Float64Array }
  | { kind: 'quantiles'; levels: readonly number[]; /** [Q, H]. */ values: Float64Array };


/** One outcome's PIT under the wrapped forecaster, at step h of a forecast of `horizon` steps. */
export interface Pit {
  u: number;
  weight: number;
  h: number;
  horizon: number;
}

/** The level an expert of trust lambda reads for nominal level q: clamp(q + lambda (r - q) + o, 0, 1), r = R_h(q), o the ACI offset. */
export function levelOf(lambda: number, q: number, r: number, o: number): number {
  return Math.min(1, Math.max(0, q + lambda * (r - q) + o));
}

/**
 * The experts of one forecast per level: expert c reads level j at step h at
 * x_c = clamp(q_j + lambda_c (recal[j][h] - q_j) + offsets[j][h], 0, 1), and the forecast reports
 * sum_c weights[j][c] Q_in(x_c) (the median: Q_in(0.5)).
 */
export interface LevelMixture {
  lambdas: readonly number[];
  recal: number[][];
  offsets: number[][];
  /** Weight per expert (sum 1) per level. */
  weights: ArrayLike<number>[];
}

/** Expert c's level for level j at step h (0-based), clamped to [0, 1]. */
export function expertLevel(levels: readonly number[], m: LevelMixture, j: number, h: number, c: number): number {
  const q = levels[j];
  if (q === 0.5) return 0.5;
  return levelOf(m.lambdas[c], q, m.recal[j][h], m.offsets[j][h]);
}

/**
 * One step's reported quantiles: per level the weighted mean of its experts' Q_in values and the
 * effective level x~ with Q_in(x~) = that value (the experts' common level when all weighted experts
 * agree, so a single expert reads Q_in exactly where it points; else `inverse`). Sorted by value (then level)
 * so quantiles never cross; `reordered` says whether the sort moved anything.
 */
export function mixStep(levels: readonly number[], m: LevelMixture, h: number, Q: (u: number) => number,
  inverse: (y: number) => number): { values: number[]; eff: number[]; reordered: boolean } {
  const pairs = levels.map((q, j) => {
    if (q === 0.5) return { v: Q(0.5), x: 0.5 };
    const w = m.weights[j];
    let v = 0;
    let x0 = NaN;
    let same = true;
    for (let c = 0; c < m.lambdas.length; c++) {
      if (!(w[c] > 0)) continue;
      const x = expertLevel(levels, m, j, h, c);
      if (Number.isNaN(x0)) x0 = x;
      else if (x !== x0) same = false;
      v += w[c] * Q(x);
    }
    return same ? { v: Q(x0), x: x0 } : { v, x: inverse(v) };
  });
  let reordered = false;
  for (let j = 1; j < pairs.length; j++) if (pairs[j].v < pairs[j - 1].v || (pairs[j].v === pairs[j - 1].v && pairs[j].x < pairs[j - 1].x)) reordered = true;
  if (reordered) pairs.sort((a, b) => a.v - b.v || a.x - b.x);
  return { values: pairs.map((p) => p.v), eff: pairs.map((p) => p.x), reordered };
}

/** The wrapped forecaster's quantile function Q_in at step h (1-based) of a forecast of H steps. */
export function innerQuantile(d: InnerDistribution, H: number, h: number): (u: number) => number {
  if (d.kind === 'paths') {
    const col = d.sorted.subarray((h - 1) * d.n, h * d.n);
    return (u) => midRankQuantile(col, u);
  }
  const col = Float64Array.from({ length: d.levels.length }, (_, j) => d.values[j * H + h - 1]);
  return (u) => quantileFunction(d.levels, col, u);
}

/**
 * PIT of y under the wrapped forecaster's distribution at step h: the level u with Q_in(u) = y
 * (the middle of the levels where Q_in is flat at y; 0 or 1 beyond its range).
 */
export function pitOf(d: InnerDistribution, H: number, h: number, y: number): number {
  if (d.kind === 'paths') return midRankLevel(d.sorted.subarray((h - 1) * d.n, h * d.n), y);
  return inverseLevel(innerQuantile(d, H, h), y);
}

/** The inverse of {@link midRankQuantile}: the level of y among sorted values (the middle of a tie; 0 or 1 beyond them). */
export function midRankLevel(col: Float64Array, y: number): number {
  const N = col.length;
  let below = 0;
  while (below < N && col[below] < y) below++;
  let equal = below;
  while (equal < N && col[equal] === y) equal++;
  if (equal > below) {
    const lo = below === 0 ? 0 : (below + 0.5) / N;
    const hi = equal === N ? 1 : (equal - 1 + 0.5) / N;
    return (lo + hi) / 2;
  }
  if (below === 0) return 0;
  if (below === N) return 1;
  return (below - 0.5 + (y - col[below - 1]) / (col[below] - col[below - 1])) / N;
}

/** The level u with Q(u) = y for a non-decreasing Q on [0, 1], by bisection to 2^-40 (0 or 1 beyond Q's range). */
export function inverseLevel(Q: (u: number) => number, y: number): number {
  if (y <= Q(0)) return 0;
  if (y >= Q(1)) return 1;
  let a = 0;
  let b = 1;
  for (let k = 0; k < 40; k++) {
    const m = (a + b) / 2;
    if (Q(m) < y) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

/**
 * Recalibrated levels R_h(q) per level (sorted) and step: the weighted quantile of the PITs, each
 * weighted by its origin weight times (1 - pool) on its own step plus pool / horizon on every step,
 * read between mid-weight positions (through (0, 0) and (1, 1) beyond them), then
 * (W R + prior q) / (W + prior), W the step's total weight.
 */
export function recalibratedLevels(pits: readonly Pit[], levels: readonly number[], H: number, pool: number, prior: number): Map<number, number[]> {
  const out = new Map<number, number[]>(levels.map((q) => [q, new Array<number>(H).fill(q)]));
  if (pits.length === 0) return out;
  const order = stableOrder(pits.length, (i) => pits[i].u);
  const n = order.length;
  // The PITs' fields in sorted order, read once per step below.
  const weight = new Float64Array(n);
  const step = new Float64Array(n);
  const horizon = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const p = pits[order[k]];
    weight[k] = p.weight;
    step[k] = p.h;
    horizon[k] = p.horizon;
  }
  const w = new Float64Array(n);
  for (let h = 1; h <= H; h++) {
    let W = 0;
    for (let k = 0; k < n; k++) {
      w[k] = weight[k] * ((step[k] === h ? 1 - pool : 0) + pool / horizon[k]);
      W += w[k];
    }
    if (!(W > 0)) continue;
    let k = -1; // the last PIT whose mid-weight position is below q
    let cum = 0; // weight before PIT k + 1
    let pos = 0; // mid-weight position of PIT k
    for (const q of levels) {
      // split-conformal's finite-sample rule: a new PIT falls below the k-th of n exchangeable ones with
      // probability k / (n + 1), so level x reads the PITs at rank x (n + 1), mid-rank position (x (W + 1) - 1/2) / W
      const x = Math.min(1, Math.max(0, (q * (W + 1) - 0.5) / W));
      while (k + 1 < order.length && (cum + w[k + 1] / 2) / W < x) {
        pos = (cum + w[k + 1] / 2) / W;
        cum += w[k + 1];
        k++;
      }
      const u0 = k >= 0 ? pits[order[k]].u : 0;
      const x0 = k >= 0 ? pos : 0;
      const u1 = k + 1 < order.length ? pits[order[k + 1]].u : 1;
      const xEnd = k + 1 < order.length ? (cum + w[k + 1] / 2) / W : 1;
      const r = xEnd > x0 ? u0 + ((x - x0) * (u1 - u0)) / (xEnd - x0) : u0;
      out.get(q)![h - 1] = (W * r + prior * q) / (W + prior);
    }
  }
  return out;
}

/** The key of level j's pair: the lower of q and 1 - q when both are asked, else q. */
export function pairKey(levels: readonly number[], j: number): number {
  const partner = partnerOf(levels, j);
  return partner >= 0 ? Math.min(levels[j], levels[partner]) : levels[j];
}

/** Index of the level 1 - levels[j] (to 1e-9), or -1; the median has none. */
export function partnerOf(levels: readonly number[], j: number): number {
  const q = levels[j];
  if (q === 0.5) return -1;
  return levels.findIndex((x) => Math.abs(x - (1 - q)) < 1e-9);
}

/**
 * Writes window i's adjusted quantiles (the experts' mixture, {@link mixStep}) into out[offset..] (and
 * paths into samplesOut) and returns the reported quantiles [Q, H], the effective levels [Q][H] and the
 * number of steps whose quantiles the sort reordered.
 */
export function adjustWindow(inner: Forecast, i: number, levels: readonly number[], mix: LevelMixture, H: number, out: Float64Array,
  samplesOut: Float64Array | undefined, offset = i * levels.length * H): { values: Float64Array; dist: InnerDistribution; eff: number[][]; reordered: number } {
  const values = new Float64Array(levels.length * H);
  const eff = levels.map(() => new Array<number>(H));
  let reordered = 0;
  const s = inner.samples;
  const q = inner.quantiles;
  const knotsX = [0, ...levels, 1];
  const usePaths = Boolean(s && samplesOut);
  const N = s ? s.dims[1] : 0;
  const allSorted = usePaths ? new Float64Array(N * H) : null;
  let dist: InnerDistribution | null = null;
  if (!usePaths) {
    if (!q) throw new ModelError(`${inner.meta.model} gave neither paths nor quantiles to calibrate`, { key: 'quantiles' });
    const [, nq] = q.values.dims;
    dist = { kind: 'quantiles', levels: q.levels, values: q.values.data.slice(i * nq * H, (i + 1) * nq * H) };
  }
  for (let h = 0; h < H; h++) {
    let Q: (u: number) => number;
    let inverse: (y: number) => number;
    let sorted: Float64Array | null = null;
    if (s && samplesOut) {
      const N = s.dims[1];
      const col = new Float64Array(N);
      for (let j = 0; j < N; j++) col[j] = s.data[(i * N + j) * H + h];
      col.sort();
      sorted = col;
      allSorted!.set(col, h * N);
      Q = (u) => midRankQuantile(col, u);
      inverse = (y) => midRankLevel(col, y);
    } else {
      if (!q) throw new ModelError(`${inner.meta.model} gave neither paths nor quantiles to calibrate`, { key: 'quantiles' });
      const [, nq] = q.values.dims;
      const vals = q.values.data.subarray(i * nq * H, (i + 1) * nq * H);
      const col = Float64Array.from({ length: nq }, (_, j) => vals[j * H + h]);
      Q = (u) => quantileFunction(q.levels, col, u);
      inverse = (y) => inverseLevel(Q, y);
    }
    const step = mixStep(levels, mix, h, Q, inverse);
    if (step.reordered) reordered++;
    levels.forEach((_, j) => {
      const v = step.values[j];
      values[j * H + h] = v;
      out[offset + j * H + h] = v;
      eff[j][h] = step.eff[j];
    });
    if (s && samplesOut && sorted) {
      const N = s.dims[1];
      const col = sorted;
      const knotsY = [0, ...eff.map((r) => r[h]), 1];
      // rank of each path's close at this step (stable for ties)
      const idx = stableOrder(N, (j) => s.data[(i * N + j) * H + h], col);
      for (let r = 0; r < N; r++) {
        const u = (r + 0.5) / N;
        samplesOut[(i * N + idx[r]) * H + h] = midRankQuantile(col, piecewiseLinear(knotsX, knotsY, u));
      }
    }
  }
  return { values, dist: dist ?? { kind: 'paths', n: N, sorted: allSorted! }, eff, reordered };
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
