/**
 * The conformal layer's level-space helpers: the wrapped forecaster's quantile function Q_in per
 * step (paths' mid-rank quantiles or the wrapped quantiles), PITs under it, the recalibration map
 * R_h(q) from a window of PITs, the effective levels of one step, and the adjusted quantiles and
 * paths of one window. See ./layer for the recursion that uses them.
 */
import { ModelError } from '../../core/errors';
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

/**
 * Effective levels of one step: clamp(q + lambda (R - q) + offset, 0, 1) per level, sorted so
 * quantiles never cross.
 */
export function mixLevels(levels: readonly number[], recal: number[][], offsets: number[][], lambda: readonly number[], h: number): number[] {
  return levels
    .map((q, j) => (q === 0.5 ? 0.5 : Math.min(1, Math.max(0, q + lambda[j] * (recal[j][h] - q) + offsets[j][h]))))
    .sort((a, b) => a - b);
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
  if (d.kind === 'paths') {
    const N = d.n;
    const col = d.sorted.subarray((h - 1) * N, h * N);
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
  const Q = innerQuantile(d, H, h);
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
  const order = pits.map((_, i) => i).sort((a, b) => pits[a].u - pits[b].u);
  const w = new Float64Array(order.length);
  for (let h = 1; h <= H; h++) {
    let W = 0;
    order.forEach((i, k) => {
      const p = pits[i];
      w[k] = p.weight * ((p.h === h ? 1 - pool : 0) + pool / p.horizon);
      W += w[k];
    });
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
 * Writes window i's adjusted quantiles into out[offset..] (and paths into samplesOut) and
 * returns the reported quantiles [Q, H].
 */
export function adjustWindow(inner: Forecast, i: number, levels: readonly number[], eff: number[][], H: number, out: Float64Array,
  samplesOut: Float64Array | undefined, offset = i * levels.length * H): { values: Float64Array; dist: InnerDistribution } {
  const values = new Float64Array(levels.length * H);
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
    let sorted: Float64Array | null = null;
    if (s && samplesOut) {
      const N = s.dims[1];
      const col = new Float64Array(N);
      for (let j = 0; j < N; j++) col[j] = s.data[(i * N + j) * H + h];
      col.sort();
      sorted = col;
      allSorted!.set(col, h * N);
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
  return { values, dist: dist ?? { kind: 'paths', n: N, sorted: allSorted! } };
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
