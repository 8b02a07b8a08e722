import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/random';
import { barsToArraysBySymbol, loadBars } from '../../../src/data';
import { createNamedForecaster } from '../../../src/forecast/named';
import { bridgeExtremes, calibrateBridge } from '../../../src/forecast/paths/extremes';
import { forecastOutlook } from '../../../src/forecast/paths/pathOutlook';
import { prepareOutlook } from '../../../src/forecast/paths/prepare';
import { vwapTouchReliability } from '../../../src/forecast/paths/touchReliability';
import { realData } from '../../support/paths';

/** Bars of a Brownian motion observed on 200 sub-steps per bar: highs and lows are the sub-path's extremes. */
function brownianBars(n: number, sigma: number, seed: number): { close: Float64Array; high: Float64Array; low: Float64Array } {
  const rng = new Rng(seed);
  const close = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  let x = Math.log(100);
  close[0] = high[0] = low[0] = 100;
  const sub = 200;
  for (let i = 1; i < n; i++) {
    let hi = x;
    let lo = x;
    for (let k = 0; k < sub; k++) {
      x += (sigma / Math.sqrt(sub)) * rng.normal();
      hi = Math.max(hi, x);
      lo = Math.min(lo, x);
    }
    close[i] = Math.exp(x);
    high[i] = Math.exp(hi);
    low[i] = Math.exp(lo);
  }
  return { close, high, low };
}

describe('intrabar extremes (Brownian bridge)', () => {
  it('calibration recovers kappa = 1 on bars of a Brownian motion', () => {
    const b = brownianBars(1500, 0.002, 5);
    const cal = calibrateBridge(b.close, b.high, b.low);
    // a discretely observed sub-path slightly understates the extremes: kappa a little under 1
    expect(cal.kappa).toBeGreaterThan(0.88);
    expect(cal.kappa).toBeLessThan(1.05);
    expect(cal.bars).toBe(1499);
    // flat bars (high = low = close): nothing to add
    const flat = Float64Array.from({ length: 50 }, (_, i) => 100 + (i % 2));
    expect(calibrateBridge(flat, flat, flat).kappa).toBe(0);
  });

  it('keeps low <= close <= high, adds nothing at kappa 0, and widens with kappa', () => {
    const close = Float64Array.of(101, 99, 100, 102, 98, 97);
    const paths = { close, n: 2, horizon: 3 };
    const zero = bridgeExtremes(paths, 100, 0, new Rng(1));
    [101, 101, 100, 102, 102, 98].forEach((v, i) => expect(zero.high[i]).toBeCloseTo(v, 10));
    [100, 99, 99, 100, 98, 97].forEach((v, i) => expect(zero.low[i]).toBeCloseTo(v, 10));
    const wide = bridgeExtremes(paths, 100, 2, new Rng(1));
    for (let i = 0; i < 6; i++) {
      expect(wide.high[i]).toBeGreaterThanOrEqual(zero.high[i]);
      expect(wide.low[i]).toBeLessThanOrEqual(zero.low[i]);
    }
    expect(wide.high.some((h, i) => h > zero.high[i])).toBe(true);
  });

  it('gives closes-only forecasters highs and lows in the outlook; intrabar none keeps closes only', async () => {
    const arrays = [...barsToArraysBySymbol(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.feather'))).values()][0];
    const prepared = prepareOutlook(arrays, { barMs: 60_000, session: '24x7', lookback: 240, contextLength: 512 });
    const ewma = createNamedForecaster('ewma');
    const o = await forecastOutlook(ewma, prepared, { horizon: 30, samples: 200, seed: 1, session: '24x7' });
    expect(o.stats.extremesFrom).toBe('highLow');
    expect(o.pathMethod).toMatch(/^EWMA recursion simulated forward with normal draws \(volatility clustering\); highs and lows by a Brownian bridge per step \(kappa \d\.\d{3}, calibrated on \d+ context bars\)$/);
    const c = await forecastOutlook(ewma, prepared, { horizon: 30, samples: 200, seed: 1, session: '24x7', intrabar: 'none' });
    expect(c.stats.extremesFrom).toBe('close');
    // same closes; touches from highs and lows can only be more likely
    expect(Array.from(c.paths.close)).toEqual(Array.from(o.paths.close));
    expect(o.pHitVwap!).toBeGreaterThanOrEqual(c.pHitVwap!);
  });

  it('predicted VWAP-touch probabilities match observed touch frequencies on recorded 1-minute bars', async () => {
    const arrays = [...barsToArraysBySymbol(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.feather'))).values()][0];
    const r = await vwapTouchReliability(arrays, createNamedForecaster('ewma'), { barMs: 60_000, session: '24x7', horizon: 30, every: 60, samples: 200, seed: 3 });
    const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
    expect(r.predicted.length).toBeGreaterThan(100);
    expect(Math.abs(mean(r.predicted) - mean(r.observed))).toBeLessThan(0.05);
    const t = r.table;
    // the lowest bin rarely touches, the highest nearly always
    expect(t.observed[0]).toBeLessThan(0.15);
    expect(t.observed[t.observed.length - 1]).toBeGreaterThan(0.8);
    for (let b = 0; b < t.count.length; b++) if (t.count[b] >= 15) expect(Math.abs(t.observed[b] - t.meanPredicted[b])).toBeLessThan(0.3);
  });
});
