import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { coverageFromQuantiles, coverageFromSamples } from '../../src/calibration/coverage';

describe('coverageFromSamples', () => {
  it('counts realised values inside the empirical central intervals, ends included', () => {
    // Samples 0..4: the 50% interval is [1, 3], the 80% interval [0.4, 3.6].
    const rows = coverageFromSamples([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4], 5, [3, 3.5, 0.3], [0.5, 0.8]);
    expect(rows.map((r) => [r.level, r.inside, r.n])).toEqual([
      [0.5, 1, 3],
      [0.8, 2, 3],
    ]);
    expect(rows[1].observed).toBeCloseTo(2 / 3, 15);
    expect(rows[1].ciLow).toBeLessThan(2 / 3);
  });

  it('names the forecast row of a bad sample', () => {
    expect(() => coverageFromSamples([0, 1, 2, NaN], 2, [1, 1])).toThrow(/not finite \(row 1, column "samples"/);
    expect(() => coverageFromSamples([0, 1, 2], 2, [1, 1])).toThrow(/samples has 3 values, expected 2 forecasts x 2 samples = 4/);
    expect(() => coverageFromSamples([0, 1, 2, 3], 2, [1, Infinity])).toThrow(/realized must be finite \(row 1, column "realized"/);
    expect(() => coverageFromSamples([], 2, [])).toThrow(/no forecasts/);
  });

  it('matches the nominal level for calibrated normal forecasts and falls short for narrow ones', () => {
    const rng = new Rng(2);
    const n = 3000;
    const m = 200;
    const make = (sd: number): [Float64Array, Float64Array] => {
      const s = new Float64Array(n * m);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) s[i * m + j] = sd * rng.normal();
        y[i] = rng.normal();
      }
      return [s, y];
    };
    const [s, y] = make(1);
    for (const r of coverageFromSamples(s, m, y)) expect(Math.abs(r.observed - r.level)).toBeLessThan(0.035);
    const [s2, y2] = make(0.6);
    const narrow = coverageFromSamples(s2, m, y2, [0.9]);
    expect(narrow[0].observed).toBeLessThan(0.75); // 2 * Phi(1.645 * 0.6) - 1 = 0.677
  });
});

describe('coverageFromQuantiles', () => {
  it('uses every symmetric pair of levels by default', () => {
    const rows = coverageFromQuantiles([0.1, 0.25, 0.5, 0.75, 0.9], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4], [3.5, 0.5]);
    expect(rows.map((r) => [r.level, r.inside])).toEqual([
      [0.8, 2],
      [0.5, 0],
    ]);
  });

  it('rejects a level whose interval ends are not forecast levels', () => {
    expect(() => coverageFromQuantiles([0.1, 0.5, 0.9], [0, 1, 2], [1], [0.5])).toThrow(/central 0.5 interval needs quantile levels 0.25 and 0.75/);
    expect(() => coverageFromQuantiles([0.5, 0.6], [0, 1], [1])).toThrow(ConfigError);
    expect(() => coverageFromQuantiles([0.1, 0.5, 0.9], [0, 1, 2, 0], [1, 1])).toThrow(/quantiles has 4 values, expected 2 forecasts x 3 levels = 6/);
    expect(() => coverageFromQuantiles([0.1, 0.5, 0.9], [0, 2, 1], [1])).toThrow(/quantiles cross: level 2 is below level 1 \(row 0/);
    expect(() => coverageFromQuantiles([0.1, 0.5, 0.9], [0, 1, 2], [NaN])).toThrow(/realized is NaN/);
  });
});
