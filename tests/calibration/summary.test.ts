import { describe, expect, it } from 'vitest';
import { brierDecomposition } from '../../src/calibration/brier';
import { ece, eceEqualMass, mce } from '../../src/calibration/ece';
import { logLoss } from '../../src/calibration/logloss';
import { reliabilityTable } from '../../src/calibration/reliability';
import { calibrationSummary, scoresOf } from '../../src/calibration/summary';
import { Rng } from '../../src/core/random';

describe('calibrationSummary', () => {
  const p = [0.05, 0.1, 0.2, 0.35, 0.5, 0.55, 0.7, 0.8, 0.9, 1];
  const y = [0, 0, 1, 0, 1, 0, 1, 1, 1, 1];

  it('agrees with the single-purpose functions', () => {
    const s = calibrationSummary(p, y, { bins: 4 });
    const d = brierDecomposition(p, y, { bins: 4 });
    const t = reliabilityTable(p, y, { bins: 4 });
    expect(s.brier).toBe(d.brier);
    expect(s.reliability).toBe(d.reliability);
    expect(s.withinBinCovariance).toBe(d.withinBinCovariance);
    expect(s.logLoss).toBe(logLoss(p, y));
    expect(s.ece).toBe(ece(t));
    expect(s.mce).toBe(mce(t));
    expect(s.eceEqualMass).toBe(eceEqualMass(p, y, 4));
    expect(Array.from(s.table.count)).toEqual(Array.from(t.count));
    expect(s.baseRate).toBe(0.6);
    expect(s.n).toBe(10);
    expect(s.logLossClipped).toBe(1); // p = 1
  });

  it('base rate is the share of outcomes equal to 1, exactly, for any bins', () => {
    const rng = new Rng(5);
    const pr = Array.from({ length: 997 }, () => rng.uniform());
    const yr = pr.map((q) => (rng.bernoulli(q) ? 1 : 0));
    const share = yr.reduce<number>((a, v) => a + v, 0) / yr.length;
    for (const strategy of ['uniform', 'quantile'] as const) {
      for (const bins of [1, 7, 50]) {
        const s = calibrationSummary(pr, yr, { bins, strategy });
        expect(s.baseRate).toBe(share);
        expect(s.uncertainty).toBe(share * (1 - share));
      }
    }
  });

  it('scoresOf drops the table', () => {
    const scores = scoresOf(calibrationSummary(p, y, { bins: 2 }));
    expect('table' in scores).toBe(false);
    expect(Object.keys(scores)).toContain('eceEqualMass');
  });
});
