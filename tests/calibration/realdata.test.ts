/**
 * Calibration of a naive 30-minute P(up) on recorded 1-minute bars, checked
 * against scikit-learn on the same pairs (built the same way in
 * fixtures/make_sklearn_fixtures.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brierDecomposition } from '../../src/calibration/brier';
import { fitCalibrator } from '../../src/calibration/calibrator';
import { logLoss } from '../../src/calibration/logloss';
import { reliabilityTable } from '../../src/calibration/reliability';
import { calibrationSummary } from '../../src/calibration/summary';
import { walkForwardRecalibration } from '../../src/calibration/walkforward';
import { realData } from '../support/paths';
import { close, sklearn } from './reference';

const ref = sklearn.realData;

function naivePUp(): { p: Float64Array; y: Float64Array } {
  const rows: number[][] = JSON.parse(readFileSync(realData('crypto-1m', 'UNITTEST_BTC-1m.json'), 'utf8'));
  const close = rows.map((r) => r[4]);
  const { horizon: H, lookback: L, stride } = ref;
  const p: number[] = [];
  const y: number[] = [];
  for (let t = L + H; t < close.length - H; t += stride) {
    let ups = 0;
    for (let s = t - L + 1; s <= t; s++) if (close[s] > close[s - H]) ups++;
    p.push(ups / L);
    y.push(close[t + H] > close[t] ? 1 : 0);
  }
  return { p: Float64Array.from(p), y: Float64Array.from(y) };
}

describe('calibration on recorded market data', () => {
  const { p, y } = naivePUp();

  it('builds the same pairs as the reference script', () => {
    expect(p.length).toBe(ref.n);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(ref.sumP, 9);
    expect(y.reduce((a, b) => a + b, 0)).toBe(ref.sumY);
  });

  it('reliability tables match scikit-learn for uniform and (tied) quantile bins', () => {
    for (const strategy of ['uniform', 'quantile'] as const) {
      const t = reliabilityTable(p, y, { strategy });
      const filled = [...t.count.keys()].filter((b) => t.count[b] > 0);
      expect(filled.map((b) => t.observed[b]).every((v, k) => close(v, ref[strategy].probTrue[k], 1e-12))).toBe(true);
      expect(filled.map((b) => t.meanPredicted[b]).every((v, k) => close(v, ref[strategy].probPred[k], 1e-12))).toBe(true);
    }
  });

  it('scores match, the decomposition is exact, and the naive forecaster is worse than a coin', () => {
    const s = calibrationSummary(p, y);
    expect(close(s.brier, ref.brier, 1e-13)).toBe(true);
    expect(close(logLoss(p, y), ref.logLossClip1e15, 1e-13)).toBe(true);
    const d = brierDecomposition(p, y);
    expect(Math.abs(d.reliability - d.resolution + d.uncertainty + d.withinBinVariance - d.withinBinCovariance - d.brier)).toBeLessThan(1e-15);
    expect(s.brier).toBeGreaterThan(0.25);
  });

  it('isotonic and Platt recalibrators match scikit-learn', () => {
    const iso = fitCalibrator({ kind: 'isotonic' }, p, y);
    if (iso.kind !== 'isotonic') throw new Error('unreachable');
    expect(Array.from(iso.model.x)).toEqual(ref.isotonic.thresholdsX);
    expect(Array.from(iso.model.y).every((v, i) => close(v, ref.isotonic.thresholdsY[i], 1e-12))).toBe(true);
    const platt = fitCalibrator({ kind: 'platt' }, p, y);
    if (platt.kind !== 'platt') throw new Error('unreachable');
    expect(Math.abs(platt.model.a - ref.plattLogit.a)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.plattLogit.a)));
    expect(Math.abs(platt.model.b - ref.plattLogit.b)).toBeLessThan(1e-4);
  });

  it('walk-forward with a gap of the label horizon scores only later rows', () => {
    // Rows are 7 bars apart and outcomes resolve 30 bars later: 5 rows of gap.
    const gap = Math.ceil(ref.horizon / ref.stride);
    const wf = walkForwardRecalibration(p, y, { calibrator: { kind: 'platt' }, minTrain: 600, block: 200, gap });
    expect(wf.oosStart).toBe(605);
    expect(wf.before.n).toBe(ref.n - 605);
    for (const b of wf.blocks) expect(b.start - b.trainEnd).toBe(gap);
    // Platt shrinks the useless forecasts toward the base rate: better out of sample.
    expect(wf.after.brier).toBeLessThan(wf.before.brier);
  });
});
