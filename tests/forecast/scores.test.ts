import { describe, expect, it } from 'vitest';
import { loadGridSeries } from '../../src/cli/eval';
import { compareForecasters } from '../../src/forecast/compare';
import { evaluateWalkForward } from '../../src/forecast/evaluate';
import { crpsSamples } from '../../src/forecast/metrics';
import { spacedOrigins } from '../../src/forecast/origins';
import { searchSamplerSettings } from '../../src/forecast/samplerSearch';
import { meanCrps, pctReturnError, simpleReturn, stepCrps, weightedCrps } from '../../src/forecast/scores';
import type { Forecast, ForecastRequest, Forecaster } from '../../src/forecast/types';
import { normalQuantile } from '../../src/stats/normal';
import { realData } from '../support/paths';

describe('score definitions', () => {
  it('pct_return_mae term: |predicted - realised| return from the last close', () => {
    expect(simpleReturn(110, 100)).toBeCloseTo(0.1, 15);
    expect(pctReturnError(102, 99, 100)).toBeCloseTo(0.03, 15);
    expect(pctReturnError(99, 102, 100)).toBe(pctReturnError(102, 99, 100));
    // Inside [0.5, 2] x last, the same bits as the ratio difference (subtracting 1 is exact there).
    for (const [a, b, l] of [[101.37, 99.01, 100.3], [0.0612, 0.0598, 0.0601], [3e4, 1.9e4, 2.1e4]]) {
      expect(pctReturnError(a, b, l)).toBe(Math.abs(a / l - b / l));
    }
  });

  it('stepCrps gathers one step of one row (first `count` paths) and leaves it sorted', () => {
    // rows 2, paths 3, steps 2: row 1, step 1 holds 9, 5, 7
    const paths = { data: Float64Array.of(0, 0, 0, 0, 0, 0, 1, 9, 1, 5, 1, 7), dims: [2, 3, 2] as [number, number, number] };
    const column = new Float64Array(3);
    expect(stepCrps(paths, 1, 1, 6, column)).toBe(crpsSamples(Float64Array.of(9, 5, 7), 6));
    expect(Array.from(column)).toEqual([5, 7, 9]);
    expect(stepCrps(paths, 1, 1, 6, column, 2)).toBe(crpsSamples(Float64Array.of(9, 5), 6));
    expect(stepCrps(paths, 1, 1, 6, column, 2, true)).toBe(crpsSamples(Float64Array.of(9, 5), 6, true));
  });

  it('pooled CRPS and weighted CRPS; NaN without scored pairs', () => {
    expect(meanCrps(3, 2)).toBe(1.5);
    expect(weightedCrps(3, 2, 300)).toBe(0.01);
    expect(meanCrps(0, 0)).toBeNaN();
    expect(weightedCrps(0, 0, 10)).toBeNaN();
  });
});

/**
 * Log-normal fan from the window's own volatility, path j at the (j + 1/2) / N normal quantile:
 * deterministic, so a batched call and single-window calls give the same paths.
 */
function fanForecaster(): Forecaster {
  return {
    info: { name: 'fan', family: 'baseline', contextLength: 64, minContext: 2, maxHorizon: 100, quantileLevels: null },
    async forecast(req: ForecastRequest): Promise<Forecast> {
      const windows = req.context instanceof Float64Array ? [req.context] : (req.context as Float64Array[]);
      const N = req.samples ?? 0;
      const H = req.horizon;
      const data = new Float64Array(windows.length * N * H);
      windows.forEach((w, i) => {
        let ss = 0;
        for (let k = 1; k < w.length; k++) ss += Math.log(w[k] / w[k - 1]) ** 2;
        const sigma = Math.sqrt(ss / (w.length - 1));
        const last = w[w.length - 1];
        for (let j = 0; j < N; j++) {
          const z = normalQuantile((j + 0.5) / N);
          for (let h = 0; h < H; h++) data[(i * N + j) * H + h] = last * Math.exp(sigma * z * Math.sqrt(h + 1));
        }
      });
      return {
        samples: { data, dims: [windows.length, N, H] },
        meta: { model: 'fan', family: 'baseline', device: 'none', batch: windows.length, horizon: H, samples: N, samplesFrom: 'model', timings: { totalMs: 0, modelMs: 0, runs: 0 }, fallback: { count: 0, forecaster: null, reasons: [] } },
      };
    },
    async close() {},
  };
}

describe('every scorer gives the same numbers (recorded ETH/BTC 5-minute closes)', () => {
  it('quantbook eval (evaluateWalkForward), the sampler search and the leaderboard agree to the last bit', async () => {
    const closes = loadGridSeries(realData('crypto-5m', 'ETH_BTC-5m.feather'))[0].closes.subarray(0, 3000);
    const H = 12;
    const L = 64;
    const every = 97;
    const N = 50;
    const f = fanForecaster();
    const walk = (await evaluateWalkForward(f, closes, { horizon: H, lookback: L, every, samples: N })).result();
    const origins = spacedOrigins(L - 1, closes.length - H, every);
    const search = await searchSamplerSettings(f, [{ symbol: 'ETH_BTC', closes, validation: origins, test: origins }], {
      grid: { samples: [N], aggregations: ['median'], lookbacks: [L], temperatures: [1], topPs: [1] },
      horizon: H,
    });
    const board = await compareForecasters([{ name: 'fan', forecaster: f }], [{ symbol: 'ETH_BTC', closes }], { horizon: H, lookback: L, every, samples: N });
    const scored = search.results[0].validation;
    expect(walk.n).toBeGreaterThan(20);
    expect(scored.n).toBe(walk.n);
    expect(walk.pctReturnMae).toBeGreaterThan(1e-4);
    expect(walk.crps).toBeGreaterThan(0);
    expect(scored.pctReturnMae).toBe(walk.pctReturnMae);
    expect(scored.crps).toBe(walk.crps);
    expect(scored.wcrps).toBe(walk.wcrps);
    const row = board.rows[0];
    expect(row.pooled.pctReturnMae).toBe(walk.pctReturnMae);
    expect(row.pooled.crps).toBe(walk.crps);
    expect(row.pooled.wcrps).toBe(walk.wcrps);
    expect(row.pctReturnMae.mean).toBe(walk.pctReturnMae);
  });
});
