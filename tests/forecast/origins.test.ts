import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors';
import { createBaseline } from '../../src/forecast/baselines';
import { forecastAtOrigins, spacedOrigins } from '../../src/forecast/origins';
import type { Forecast, ForecastRequest, Forecaster } from '../../src/forecast/types';

/** Paths of closes `last + j + h / 10` for path j and step h; records every request. */
function fakeForecaster(minContext = 3): Forecaster & { requests: ForecastRequest[] } {
  const requests: ForecastRequest[] = [];
  return {
    requests,
    info: { name: 'fake', family: 'baseline', contextLength: 8, minContext, maxHorizon: 10, quantileLevels: null },
    async forecast(req: ForecastRequest): Promise<Forecast> {
      requests.push(req);
      const windows = req.context as Float64Array[];
      const N = req.samples ?? 0;
      const H = req.horizon;
      const data = new Float64Array(windows.length * N * H);
      windows.forEach((w, i) => {
        let last = NaN;
        for (const v of w) if (Number.isFinite(v)) last = v;
        for (let j = 0; j < N; j++) for (let h = 0; h < H; h++) data[(i * N + j) * H + h] = last + j + h / 10;
      });
      return {
        samples: { data, dims: [windows.length, N, H] },
        meta: { model: 'fake', family: 'baseline', device: 'none', batch: windows.length, horizon: H, samples: N, samplesFrom: 'model', timings: { totalMs: 0, modelMs: 0, runs: 0 }, fallback: { count: 0, forecaster: null, reasons: [] } },
      };
    },
    async close() {},
  };
}

const closes = Float64Array.from({ length: 30 }, (_, i) => 100 + i);

describe('forecastAtOrigins', () => {
  it('forecasts each origin from a window ending there, in batches, with the realised future beside it', async () => {
    const f = fakeForecaster();
    const r = await forecastAtOrigins(f, closes, { horizon: 2, origins: [5, 10, 15, 20, 25], lookback: 4, samples: 3, seed: 100, batchSize: 2 });
    expect(Array.from(r.origins)).toEqual([5, 10, 15, 20, 25]);
    expect(Array.from(r.lastPrice)).toEqual([105, 110, 115, 120, 125]);
    expect(Array.from(r.realized)).toEqual([106, 107, 111, 112, 116, 117, 121, 122, 126, 127]);
    // three calls of 2, 2 and 1 windows, seeds 100 + index of the call's first origin
    expect(f.requests.map((q) => (q.context as Float64Array[]).length)).toEqual([2, 2, 1]);
    expect(f.requests.map((q) => q.seed)).toEqual([100, 102, 104]);
    expect(Array.from(f.requests[1].context as Float64Array[], (w) => Array.from(w))).toEqual([[112, 113, 114, 115], [117, 118, 119, 120]]);
    expect(r.calls.map((c) => c.windows)).toEqual([2, 2, 1]);
    // samples concatenated in origin order: origin 15 is row 2; path 1, step 2 = 115 + 1 + 0.1
    expect(r.samples!.dims).toEqual([5, 3, 2]);
    expect(r.samples!.data[(2 * 3 + 1) * 2 + 1]).toBeCloseTo(116.1, 12);
    expect(r.skipped).toEqual({ missingFuture: [], shortContext: [] });
  });

  it('skips and lists origins whose future is incomplete or whose window is too short', async () => {
    const gappy = closes.slice();
    gappy[12] = NaN; // inside the future of origin 10 (horizon 3)
    const r = await forecastAtOrigins(fakeForecaster(3), gappy, { horizon: 3, origins: [1, 4, 10, 20, 27], lookback: 5, samples: 1 });
    expect(Array.from(r.origins)).toEqual([4, 20]);
    expect(r.skipped).toEqual({ missingFuture: [10, 27], shortContext: [1] });
  });

  it('takes the last observed close as the price a window ends at', async () => {
    const gappy = closes.slice();
    gappy[9] = NaN;
    const r = await forecastAtOrigins(fakeForecaster(), gappy, { horizon: 1, origins: [9], lookback: 5, samples: 1 });
    expect(r.lastPrice[0]).toBe(108);
  });

  it('hands the oracle its future, which it returns as the quantiles', async () => {
    const r = await forecastAtOrigins(createBaseline('oracle'), closes, { horizon: 3, origins: [10], lookback: 10 });
    const q = r.quantiles!;
    expect(q.values.dims).toEqual([1, q.levels.length, 3]);
    expect(Array.from(q.values.data.slice(0, 3))).toEqual([111, 112, 113]);
  });

  it('refuses bad origins, options and an empty result', async () => {
    await expect(forecastAtOrigins(fakeForecaster(), closes, { horizon: 2, origins: [30] })).rejects.toThrow(ModelError);
    await expect(forecastAtOrigins(fakeForecaster(), closes, { horizon: 2, origins: [5], lookback: 0 })).rejects.toThrow(/lookback/);
    await expect(forecastAtOrigins(fakeForecaster(), closes, { horizon: 2, origins: [29] })).rejects.toThrow(/no origin left/);
  });
});

describe('spacedOrigins', () => {
  it('steps from start below end', () => {
    expect(Array.from(spacedOrigins(100, 200, 30))).toEqual([100, 130, 160, 190]);
    expect(Array.from(spacedOrigins(0, 1, 5))).toEqual([0]);
    expect(() => spacedOrigins(0, 10, 0)).toThrow(ModelError);
    expect(() => spacedOrigins(5, 5, 1)).toThrow(/empty/);
  });
});
