import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { consistencyBands } from '../../src/calibration/consistency';
import { reliabilityTable } from '../../src/calibration/reliability';

function data(n: number, seed: number, truth: (p: number) => number): { p: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng.uniform() ** 1.5; // more mass at low probabilities: bins of unequal size
    y[i] = rng.bernoulli(truth(p[i])) ? 1 : 0;
  }
  return { p, y };
}

describe('consistencyBands', () => {
  it('covers the diagonal, and a calibrated forecaster stays mostly inside', () => {
    let inside = 0;
    let total = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const { p, y } = data(2000, seed, (q) => q);
      const t = reliabilityTable(p, y);
      const band = consistencyBands(p, t, { resamples: 400, seed });
      for (let b = 0; b < 10; b++) {
        if (t.count[b] === 0) continue;
        expect(band.lower[b]).toBeLessThanOrEqual(t.meanPredicted[b]);
        expect(band.upper[b]).toBeGreaterThanOrEqual(t.meanPredicted[b]);
        total++;
        if (t.observed[b] >= band.lower[b] && t.observed[b] <= band.upper[b]) inside++;
      }
    }
    // A 90% band: about 36 of 40 bins inside; far fewer would mean the band is too narrow.
    expect(inside / total).toBeGreaterThan(0.75);
  });

  it('flags a miscalibrated forecaster: most bins fall outside', () => {
    const { p, y } = data(4000, 9, (q) => Math.min(1, 0.1 + 1.3 * q));
    const t = reliabilityTable(p, y);
    const band = consistencyBands(p, t, { resamples: 300, seed: 1 });
    let outside = 0;
    for (let b = 0; b < 10; b++) if (t.count[b] > 0 && (t.observed[b] < band.lower[b] || t.observed[b] > band.upper[b])) outside++;
    expect(outside).toBeGreaterThanOrEqual(7);
  });

  it('matches the binomial width of a bin: about 1.645 sqrt(p(1-p)/n_b) each side', () => {
    const n = 2000;
    const p = new Float64Array(n).fill(0.3);
    const y = new Float64Array(n);
    const t = reliabilityTable(p, y, { bins: 1 });
    const band = consistencyBands(p, t, { resamples: 1000, seed: 3 });
    const half = 1.645 * Math.sqrt((0.3 * 0.7) / n);
    // 1000 resamples estimate the 5% and 95% quantiles to within a few percent.
    expect(Math.abs((band.upper[0] - 0.3) / half - 1)).toBeLessThan(0.12);
    expect(Math.abs((0.3 - band.lower[0]) / half - 1)).toBeLessThan(0.12);
  });

  it('is reproducible with a seed and changes with it; empty bins get no band', () => {
    const { p, y } = data(500, 2, (q) => q);
    const t = reliabilityTable(p, y, { bins: 20 });
    const a = consistencyBands(p, t, { resamples: 100, seed: 5 });
    const b = consistencyBands(p, t, { resamples: 100, seed: 5 });
    const c = consistencyBands(p, t, { resamples: 100, seed: 6 });
    expect(Array.from(a.lower)).toEqual(Array.from(b.lower));
    expect(Array.from(a.upper)).not.toEqual(Array.from(c.upper));
    const sparse = reliabilityTable([0.05, 0.06, 0.93, 0.95], [0, 0, 1, 1], { bins: 4 });
    const s = consistencyBands([0.05, 0.06, 0.93, 0.95], sparse, { resamples: 50 });
    expect(Number.isNaN(s.lower[1]) && Number.isNaN(s.upper[2])).toBe(true);
    expect(s.emptyResamples[1]).toBe(50);
  });

  it('rejects forecasts that do not belong to the table and bad options', () => {
    const t = reliabilityTable([0.1, 0.9], [0, 1], { bins: 2 });
    expect(() => consistencyBands([0.1, 0.9, 0.5], t)).toThrow(DataError);
    expect(() => consistencyBands([0.1, 0.9], t, { level: 1 })).toThrow(ConfigError);
    expect(() => consistencyBands([0.1, 0.9], t, { resamples: 0 })).toThrow(ConfigError);
    expect(() => consistencyBands([0.1, 0.9], t, { seed: 0.5 })).toThrow(ConfigError);
  });
});
