import { describe, expect, it } from 'vitest';
import { binaryKelly, kellySignals, walkForwardSignal } from '../../src/signal/walkforward';
import { ConfigError, DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { thrownBy } from '../support/errors';

/** Rows whose label depends on feature 0 (and not on the others), each label spanning 5 rows. */
function dataset(n: number, seed: number): { x: Float64Array; y: Float64Array; end: Int32Array } {
  const rng = new Rng(seed);
  const F = 3;
  const x = new Float64Array(n * F).map(() => rng.normal());
  const y = new Float64Array(n);
  const end = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-1.5 * x[i * F]!)) ? 1 : 0;
    end[i] = Math.min(n - 1, i + 5);
  }
  y[n - 1] = NaN;
  return { x, y, end };
}

function logloss(p: ArrayLike<number>, y: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  let k = 0;
  for (let i = from; i < to; i++) {
    if (Number.isNaN(y[i]!) || Number.isNaN(p[i]!)) continue;
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p[i]!));
    s -= y[i]! * Math.log(q) + (1 - y[i]!) * Math.log(1 - q);
    k++;
  }
  return s / k;
}

describe('walkForwardSignal', () => {
  const n = 3500;
  const { x, y, end } = dataset(n, 1);
  const names = ['signal', 'noise_a', 'noise_b'];
  const res = walkForwardSignal(x, names, y, end, {
    folds: { trainSize: 1500, testSize: 500 },
    embargo: 2,
    params: { rounds: 40, maxDepth: 3, eta: 0.1 },
  });

  it('purges every training row whose label (plus embargo) reaches the test block', () => {
    expect(res.folds.length).toBe(4);
    for (const f of res.folds) {
      // Rows start-7 .. start-1 have end + 2 >= start.
      expect(f.purgedRows).toBe(7);
      expect(f.trainRows).toBe(1500 - 7);
    }
  });

  it('predicts out of sample only inside test blocks, better than the base rate', () => {
    expect(Number.isNaN(res.pRaw[1499]!)).toBe(true);
    expect(Number.isNaN(res.pRaw[1500]!)).toBe(false);
    const base = y.subarray(1500, n - 1).reduce((s, v) => s + v, 0) / (n - 1501);
    const baseLoss = -(base * Math.log(base) + (1 - base) * Math.log(1 - base));
    expect(logloss(res.pRaw, y, 1500, n)).toBeLessThan(baseLoss - 0.05);
    const top = Object.entries(res.importance).sort((a, b) => b[1] - a[1])[0]![0];
    expect(top).toBe('signal');
  });

  it('calibrates each fold on earlier folds whose labels had ended, never on its own rows', () => {
    expect(res.folds[0]!.calibrationRows).toBe(0);
    // Fold 2 sees fold 1's test rows with end < 2000: rows 1500..1994.
    expect(res.folds[1]!.calibrationRows).toBe(495);
    expect(res.folds[2]!.calibrationRows).toBe(995);
    expect(res.uncalibratedRows).toBe(500);
    expect(Number.isNaN(res.pCal[1700]!)).toBe(true);
    expect(Number.isNaN(res.pCal[2100]!)).toBe(false);
    // Isotonic maps into [0, 1] and keeps the order of the raw scores within a fold.
    const i = 2100;
    const j = 2101;
    if (res.pRaw[i]! < res.pRaw[j]!) expect(res.pCal[i]!).toBeLessThanOrEqual(res.pCal[j]!);
    const before = walkForwardSignal(x, names, y, end, { folds: { trainSize: 1500, testSize: 500 }, params: { rounds: 40, maxDepth: 3, eta: 0.1 },
      calibration: null });
    expect(Array.from(before.pCal)).toEqual(Array.from(before.pRaw));
  });

  it('rejects inconsistent inputs', () => {
    expect(thrownBy(() => walkForwardSignal(x, ['a'], y, end, { folds: { trainSize: 100, testSize: 100 } }), DataError).location.key).toBe('x');
    expect(thrownBy(() => walkForwardSignal(x, names, y, end, { folds: { trainSize: 100, testSize: 100 }, embargo: -1 }), ConfigError).location.key).toBe('embargo');
  });
});

describe('binary Kelly', () => {
  it('is p/down - (1-p)/up, zero at the break-even probability', () => {
    expect(binaryKelly(0.55, 0.02, 0.02)).toBeCloseTo(5, 12);
    expect(binaryKelly(0.25, 0.03, 0.01)).toBeCloseTo(0, 12);
    expect(binaryKelly(0.4, 0.02, 0.02)).toBeCloseTo(-10, 12);
    expect(thrownBy(() => binaryKelly(0.5, 0, 0.01), ConfigError).location.key).toBe('up');
  });

  it("gives the engine mu and sigma whose Kelly target mu/sigma^2 is the binary Kelly position", () => {
    const p = new Float64Array([0.6, NaN, 0.3]);
    const up = new Float64Array([0.02, 0.02, 0.04]);
    const down = new Float64Array([0.01, 0.01, 0.02]);
    const s = kellySignals(p, up, down);
    expect(Array.from(s.valid)).toEqual([1, 0, 1]);
    expect(s.mu[0]! / s.sigma[0]! ** 2).toBeCloseTo(binaryKelly(0.6, 0.02, 0.01), 10);
    expect(s.mu[2]! / s.sigma[2]! ** 2).toBeCloseTo(binaryKelly(0.3, 0.04, 0.02), 10);
    expect(thrownBy(() => kellySignals(p, up, new Float64Array(2)), DataError).location.key).toBe('up');
  });
});
