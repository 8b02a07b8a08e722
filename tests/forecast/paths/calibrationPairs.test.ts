import { describe, expect, it } from 'vitest';
import { pUpFromQuantiles } from '../../../src/backtest/outlookStrategy';
import { calibrationPairs } from '../../../src/forecast/paths/calibrationPairs';
import { pitFromQuantiles } from '../../../src/calibration/pit';
import { ModelError } from '../../../src/core/errors';
import type { Forecast, ForecastMeta, ForecastRequest, Forecaster } from '../../../src/forecast/types';

const LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Quantile at level l and step h: last * (1 + h / 100 + 0.1 (l - 0.5)); at step H = 1 the median is 1% above the last close. */
function fakeForecaster(withQuantiles = true): Forecaster {
  return {
    info: { name: 'fake', family: 'baseline', contextLength: 50, minContext: 2, maxHorizon: 10, quantileLevels: null },
    async forecast(req: ForecastRequest): Promise<Forecast> {
      const windows = req.context as Float64Array[];
      const H = req.horizon;
      const Q = LEVELS.length;
      const data = new Float64Array(windows.length * Q * H);
      windows.forEach((w, i) => {
        const last = w[w.length - 1];
        for (let q = 0; q < Q; q++) for (let h = 0; h < H; h++) data[(i * Q + q) * H + h] = last * (1 + (h + 1) / (100 * H) + 0.1 * (LEVELS[q] - 0.5));
      });
      const meta: ForecastMeta = { model: 'fake', family: 'baseline', device: 'none', batch: windows.length, horizon: H, samples: 0, samplesFrom: 'model', timings: { totalMs: 0, modelMs: 0, runs: 0 }, fallback: { count: 0, forecaster: null, reasons: [] } };
      return withQuantiles ? { quantiles: { levels: LEVELS, values: { data, dims: [windows.length, Q, H] } }, meta } : { meta };
    },
    async close() {},
  };
}

/** 20 closes that grow (or shrink) by `ratio` every 3 bars. */
const series = (ratio: number) => Float64Array.from({ length: 20 }, (_, t) => 100 * ratio ** (t / 3));

describe('calibrationPairs', () => {
  it('pools (pUp, outcome) pairs of every series in time order, with the quantiles and outcomes for PIT', async () => {
    const p = await calibrationPairs(fakeForecaster(), [series(1.03), series(0.97)], { horizon: 3, stride: 5 });
    // Origins 2, 7, 12 (17 has no complete future in 20 bars), series 0 then 1 at each.
    expect(Array.from(p.t)).toEqual([2, 2, 7, 7, 12, 12]);
    expect(Array.from(p.series)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(p.levels).toEqual(LEVELS);
    // F(last) = 0.4 (the 0.4 quantile is last * (1.01 - 0.01)), so pUp = 0.6 on every row.
    for (const v of p.pUp) expect(v).toBeCloseTo(0.6, 12);
    expect(Array.from(p.up)).toEqual([1, 0, 1, 0, 1, 0]);
    p.realized.forEach((y, k) => expect(y / p.lastPrice[k]).toBeCloseTo(k % 2 === 0 ? 1.03 : 0.97, 12));
    expect(p.lastPrice[2]).toBeCloseTo(series(1.03)[7], 12);
    // The step-H quantiles of row 2 (origin 7, series 0): last * (1.01 + 0.1 (l - 0.5)).
    const Q = LEVELS.length;
    Array.from(p.atH.subarray(2 * Q, 3 * Q)).forEach((v, q) => expect(v).toBeCloseTo(p.lastPrice[2] * (1.01 + 0.1 * (LEVELS[q] - 0.5)), 9));
    // The backtest's pUp from the same quantiles.
    p.pUp.forEach((v, k) => expect(v).toBe(pUpFromQuantiles(LEVELS, p.atH.subarray(k * Q, (k + 1) * Q), p.lastPrice[k])));
    // PIT: a 3% rise sits at level 0.7, a 3% fall at 0.1.
    const pit = pitFromQuantiles(p.levels, p.atH, p.realized);
    Array.from(pit).forEach((u, k) => expect(u).toBeCloseTo(k % 2 === 0 ? 0.7 : 0.1, 9));
  });

  it('refuses a forecaster without quantiles', async () => {
    await expect(calibrationPairs(fakeForecaster(false), [series(1.03)], { horizon: 3, stride: 5 })).rejects.toThrow(ModelError);
    await expect(calibrationPairs(fakeForecaster(false), [series(1.03)], { horizon: 3, stride: 5 })).rejects.toThrow(/fake gave no quantiles/);
  });
});
