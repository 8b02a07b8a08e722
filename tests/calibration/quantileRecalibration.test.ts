import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { coverageFromSamples } from '../../src/calibration/coverage';
import { pitFromSamples, pitHistogram } from '../../src/calibration/pit';
import { fitQuantileRecalibration, recalibratedLevel, recalibratePit } from '../../src/calibration/quantileRecalibration';
import { quantileSorted } from '../../src/stats/order';

describe('quantile recalibration', () => {
  it('is the empirical CDF of the PIT values, by hand', () => {
    const r = fitQuantileRecalibration([0.1, 0.2, 0.3, 0.4]);
    expect(Array.from(recalibratePit(r, [0, 0.1, 0.15, 0.4, 0.9]))).toEqual([0, 0.25, 0.375, 1, 1]);
    expect(recalibratedLevel(r, 0.5)).toBeCloseTo(0.2, 15);
    expect(recalibratedLevel(r, 0.625)).toBeCloseTo(0.25, 15);
    expect(recalibratedLevel(r, 1)).toBeCloseTo(0.4, 15);
    expect(recalibratedLevel(r, 0)).toBe(0);
  });

  it('fitted on past forecasts that are too narrow, makes later PIT uniform and coverage nominal', () => {
    const rng = new Rng(6);
    const n = 4000;
    const m = 200;
    const samples = new Float64Array(n * m);
    const realized = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) samples[i * m + j] = 0.6 * rng.normal();
      realized[i] = rng.normal();
    }
    const pit = pitFromSamples(samples, m, realized, { kind: 'randomized', seed: 2 });
    const half = n / 2;
    const r = fitQuantileRecalibration(pit.subarray(0, half));
    const later = recalibratePit(r, pit.subarray(half));
    const h = pitHistogram(later, 10);
    // 2000 values in 10 bins: sampling sd 0.067 per bin, plus the noise of a map fitted on 2000 others.
    for (const d of h.density) expect(Math.abs(d - 1)).toBeLessThan(0.25);
    const raw = pitHistogram(pit.subarray(half), 10);
    expect(raw.density[0]).toBeGreaterThan(2);

    // Recalibrated 80% interval: the forecast's quantiles at R^-1(0.1) and R^-1(0.9), about 0.016 and
    // 0.984 here (sd 0.6 vs 1), still inside what 200 samples resolve.
    const lo = recalibratedLevel(r, 0.1);
    const hi = recalibratedLevel(r, 0.9);
    let inside = 0;
    const row = new Float64Array(m);
    for (let i = half; i < n; i++) {
      row.set(samples.subarray(i * m, (i + 1) * m));
      row.sort();
      if (realized[i] >= quantileSorted(row, lo) && realized[i] <= quantileSorted(row, hi)) inside++;
    }
    expect(lo).toBeCloseTo(0.016, 2);
    expect(Math.abs(inside / half - 0.8)).toBeLessThan(0.03);
    // Without recalibration: 2 Phi(1.2816 * 0.6) - 1 = 0.56.
    expect(coverageFromSamples(samples.subarray(half * m), m, realized.subarray(half), [0.8])[0].observed).toBeLessThan(0.62);
  });

  it('rejects PIT values outside [0, 1] and levels outside [0, 1]', () => {
    expect(() => fitQuantileRecalibration([0.2, 1.1])).toThrow(/PIT value must be in \[0, 1\] \(row 1/);
    expect(() => fitQuantileRecalibration([])).toThrow(DataError);
    expect(() => recalibratedLevel(fitQuantileRecalibration([0.5]), 2)).toThrow(DataError);
  });
});
