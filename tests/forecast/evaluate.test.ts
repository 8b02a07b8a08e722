import { describe, expect, it } from 'vitest';
import { createBaseline } from '../../src/forecast/baselines';
import { EvalAccumulator, evaluateWalkForward } from '../../src/forecast/evaluate';
import type { Forecast } from '../../src/forecast/types';

const closes = Float64Array.from({ length: 40 }, (_, i) => 100 + 5 * Math.sin(i / 3) + i * 0.2);

describe('walk-forward evaluation', () => {
  it('scores the oracle perfectly', async () => {
    const m = (await evaluateWalkForward(createBaseline('oracle'), closes, { horizon: 3, lookback: 10, every: 5, samples: 8 })).result();
    // origins t = 9, 14, 19, 24, 29, 34 (t + 3 < 40)
    expect(m.n).toBe(6);
    expect(m.points).toBe(18);
    expect(m).toMatchObject({ pctReturnMae: 0, mae: 0, mase: 0, wql: 0, coverage80: 1, fallbacks: 0, device: 'none' });
    expect(m.crps).toBeCloseTo(0, 12);
  });

  it('scores a known forecast by hand', () => {
    const acc = new EvalAccumulator();
    const window = new Float64Array([10, 12, 11]); // MASE scale (2 + 1) / 2 = 1.5
    const future = new Float64Array([12, 9]);
    // quantiles at 0.1, 0.5, 0.9 for h = 1, 2: median 11 and 10; interval [10, 12] and [9.5, 10.5]
    const forecast: Forecast = {
      quantiles: { levels: [0.1, 0.5, 0.9], values: { data: new Float64Array([10, 9.5, 11, 10, 12, 10.5]), dims: [1, 3, 2] } },
      meta: {
        model: 'hand', family: 'baseline', device: 'none', batch: 1, horizon: 2, samples: 0, samplesFrom: 'none',
        timings: { totalMs: 0, modelMs: 0, runs: 0 }, fallback: { count: 0, forecaster: null, reasons: [] },
      },
    };
    acc.add(window, future, forecast, 4);
    const m = acc.result();
    expect(m.mae).toBeCloseTo((1 + 1) / 2, 12);
    expect(m.mase).toBeCloseTo(1 / 1.5, 12);
    expect(m.pctReturnMae).toBeCloseTo(Math.abs(10 / 11 - 9 / 11), 12);
    // QL: h1 y=12: 0.1: 2|(12-10)(0-0.1)| = 0.4; 0.5: 2|1 * -0.5| = 1; 0.9: 2|0 * ..| = 0 (12 >= 12: indicator 1 - 0.9, times 0)
    // h2 y=9: 0.1: 2|(9-9.5)(1-0.1)| = 0.9; 0.5: 2|(-1)(0.5)| = 1; 0.9: 2|(-1.5)(0.1)| = 0.3
    const wql = ((0.4 + 0.9) / 21 + (1 + 1) / 21 + (0 + 0.3) / 21) / 3;
    expect(m.wql).toBeCloseTo(wql, 12);
    expect(m.coverage80).toBeCloseTo(0.5, 12); // 12 in [10, 12], 9 not in [9.5, 10.5]
    expect(Number.isNaN(m.crps)).toBe(true); // no samples
    expect(m.latencyMsP50).toBe(4);
  });

  it('skips origins whose future has a missing bar and counts them', async () => {
    const gappy = closes.slice();
    gappy[20] = NaN;
    const acc = await evaluateWalkForward(createBaseline('naive'), gappy, { horizon: 2, lookback: 10, every: 1, samples: 0 });
    // origins t = 9..37; futures t+1..t+2 contain bar 20 for t = 18, 19
    expect(acc.skippedMissingFuture).toBe(2);
    expect(acc.result().n).toBe(29 - 2);
  });

  it('needs a series longer than lookback + horizon', async () => {
    await expect(evaluateWalkForward(createBaseline('naive'), closes, { horizon: 5, lookback: 40 })).rejects.toThrow(/fewer than lookback/);
  });
});
