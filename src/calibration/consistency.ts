/**
 * Consistency bands (Bröcker and Smith 2007): how far a perfectly calibrated
 * forecaster's reliability diagram strays from the diagonal by chance alone.
 */
import { DataError } from '../core/errors';
import { Rng } from '../core/random';
import { assignBins } from './bins';
import { type ReliabilityTable } from './reliability';
import { quantileSorted } from '../stats/order';
import { checkInteger, checkOpenUnit, checkProbabilities, toFloat64, type Numbers } from './validate';

/** Options of {@link consistencyBands}. */
export interface ConsistencyOptions {
  /** Surrogate data sets; default 1000. Cost is O(resamples * n). */
  resamples?: number;
  /** Seed of the resampling; default 0. Same seed, same band. */
  seed?: number;
  /** Central probability of the band; default 0.9 (the 5%-95% range). */
  level?: number;
}

/** Per-bin band of observed frequencies consistent with perfect calibration. */
export interface ConsistencyBand {
  /** Lower end per bin; NaN where the table's bin is empty. */
  lower: Float64Array;
  /** Upper end per bin; NaN where the table's bin is empty. */
  upper: Float64Array;
  /** Central probability of the band. */
  level: number;
  resamples: number;
  seed: number;
  /** Per bin, surrogates in which the bin received no forecast (left out of its quantiles). */
  emptyResamples: Float64Array;
}

/**
 * Consistency bands of a reliability table by consistency resampling.
 *
 * For each of `resamples` surrogate data sets (Bröcker and Smith 2007): draw n
 * forecasts with replacement from `p`, draw each outcome `y* ~ Bernoulli(p*)`
 * (so the surrogate forecaster is perfectly calibrated), bin with the table's
 * edges and record per bin the deviation `observed* - meanPredicted*`. The
 * band of bin b is `meanPredicted_b + [q_lo, q_hi]` of those deviations,
 * `q_lo, q_hi` the `(1 - level) / 2` and `(1 + level) / 2` quantiles,
 * clipped to [0, 1]. Working with deviations keeps the band centred on the
 * diagonal at the point where the diagram draws the bin, although the
 * surrogate bin means jitter. An observed frequency outside the band is
 * unlikely (at `1 - level`) under perfect calibration.
 *
 * @param p - the forecasts the table was built from.
 * @param table - from {@link reliabilityTable}; its edges are reused.
 * @param options - resamples (1000), seed (0), level (0.9).
 * @throws DataError when p is empty, has bad probabilities, or its length differs from the table's n.
 * @throws ConfigError for bad resamples, seed or level.
 * @example
 * const t = reliabilityTable(p, y);
 * const band = consistencyBands(p, t, { seed: 7 });
 * band.lower[3] <= t.meanPredicted[3] && t.meanPredicted[3] <= band.upper[3]; // true: the band contains the diagonal
 */
export function consistencyBands(p: Numbers, table: ReliabilityTable, options: ConsistencyOptions = {}): ConsistencyBand {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.9;
  checkInteger(resamples, 'resamples', 1);
  checkOpenUnit(level, 'level');
  checkProbabilities(p);
  if (p.length === 0 || p.length !== table.n) {
    throw new DataError(`consistency bands need the table's forecasts: got ${p.length} values for a table of ${table.n}`);
  }
  const pf = toFloat64(p);
  const n = pf.length;
  const nBins = table.count.length;
  const bin = assignBins(pf, table.edges);
  const rng = new Rng(seed);

  // deviations[b * resamples + r]; NaN where bin b was empty in surrogate r.
  const deviations = new Float64Array(nBins * resamples);
  const count = new Float64Array(nBins);
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  const TWO_POW_M32 = 2.3283064365386963e-10;
  for (let r = 0; r < resamples; r++) {
    count.fill(0);
    sumP.fill(0);
    sumY.fill(0);
    for (let k = 0; k < n; k++) {
      // Index by multiply-shift of a 32-bit draw: bias at most n / 2^32 per index
      // (2e-4 relative at a million forecasts), immaterial for a 5-95% band and
      // half the cost of exact rejection sampling.
      const i = Math.floor(rng.nextUint32() * TWO_POW_M32 * n);
      const pi = pf[i];
      const b = bin[i];
      count[b]++;
      sumP[b] += pi;
      // A 32-bit uniform is ample resolution for a Bernoulli draw.
      if (rng.nextUint32() * TWO_POW_M32 < pi) sumY[b]++;
    }
    for (let b = 0; b < nBins; b++) {
      deviations[b * resamples + r] = count[b] > 0 ? (sumY[b] - sumP[b]) / count[b] : NaN;
    }
  }

  const lower = new Float64Array(nBins).fill(NaN);
  const upper = new Float64Array(nBins).fill(NaN);
  const emptyResamples = new Float64Array(nBins);
  const qLo = (1 - level) / 2;
  const qHi = (1 + level) / 2;
  for (let b = 0; b < nBins; b++) {
    // Native typed-array sort puts NaN (empty surrogate bins) last.
    const d = deviations.subarray(b * resamples, (b + 1) * resamples).sort();
    let filled = resamples;
    while (filled > 0 && Number.isNaN(d[filled - 1])) filled--;
    emptyResamples[b] = resamples - filled;
    if (table.count[b] === 0 || filled === 0) continue;
    const centre = table.meanPredicted[b];
    const used = d.subarray(0, filled);
    lower[b] = Math.max(0, centre + quantileSorted(used, qLo));
    upper[b] = Math.min(1, centre + quantileSorted(used, qHi));
  }
  return { lower, upper, level, resamples, seed, emptyResamples };
}
