import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { bestPerSymbol, expandSamplerGrid, inverseErrorEnsemble, searchSamplerSettings, type SamplerGrid } from '../../src/forecast/samplerSearch';
import type { Forecast, ForecastRequest, Forecaster } from '../../src/forecast/types';

/** Flat paths: path j sits at last * (1 + temperature * MOVES[j]) at every step. */
const MOVES = [0.01, 0.03, 0.5];
function flatPaths(): Forecaster & { calls: number } {
  const self = {
    calls: 0,
    info: { name: 'flat', family: 'baseline' as const, contextLength: 16, minContext: 2, maxHorizon: 10, quantileLevels: null },
    async forecast(req: ForecastRequest): Promise<Forecast> {
      self.calls++;
      const windows = req.context instanceof Float64Array ? [req.context] : (req.context as Float64Array[]);
      const N = req.samples ?? 0;
      const H = req.horizon;
      const T = req.sampling?.temperature ?? 1;
      const data = new Float64Array(windows.length * N * H);
      windows.forEach((w, i) => {
        for (let j = 0; j < N; j++) for (let h = 0; h < H; h++) data[(i * N + j) * H + h] = w[w.length - 1] * (1 + T * MOVES[j]);
      });
      return {
        samples: { data, dims: [windows.length, N, H] },
        meta: { model: 'flat', family: 'baseline', device: 'none', batch: windows.length, horizon: H, samples: N, samplesFrom: 'model', timings: { totalMs: 0, modelMs: 0, runs: 0 }, fallback: { count: 0, forecaster: null, reasons: [] } },
      };
    },
    async close() {},
  };
  return self;
}

const grid: SamplerGrid = { samples: [2, 3], aggregations: ['mean', 'median'], lookbacks: [5], temperatures: [1, 2], topPs: [1] };
const series = [{ symbol: 'FLAT', closes: new Float64Array(40).fill(100), validation: [10, 12], test: [20, 22] }];

describe('searchSamplerSettings', () => {
  it('scores every setting by hand-checkable errors, on the first N paths, with one batched forecast per block and set', async () => {
    const f = flatPaths();
    const seen: number[] = [];
    const r = await searchSamplerSettings(f, series, { grid, horizon: 2, latencyRepeats: 1, progress: (done) => seen.push(done) });
    expect(r.results).toHaveLength(8);
    expect(seen).toEqual([1, 2]); // one block per temperature
    // per block: validation and test forecasts; one timed call per sample count, in the first
    // temperature's block only (temperature does not change the cost)
    expect(f.calls).toBe(2 * 2 + 2);
    const at = (samples: number, aggregation: string, temperature: number) =>
      r.results.find((x) => x.setting.samples === samples && x.setting.aggregation === aggregation && x.setting.temperature === temperature)!;
    // realised return is 0 (flat prices); predictions are the aggregate of the first N moves times T
    expect(at(2, 'mean', 1).validation.pctReturnMae).toBeCloseTo(0.02, 12);
    expect(at(2, 'median', 1).validation.pctReturnMae).toBeCloseTo(0.02, 12);
    expect(at(3, 'mean', 1).validation.pctReturnMae).toBeCloseTo(0.18, 12); // the 0.5 outlier is the third path
    expect(at(3, 'median', 1).test.pctReturnMae).toBeCloseTo(0.03, 12);
    expect(at(3, 'median', 2).test.pctReturnMae).toBeCloseTo(0.06, 12);
    expect(at(2, 'mean', 1).validation.pctReturnMaeSe).toBe(0);
    // CRPS of {101, 103} against 100: mean |x - y| = 2, minus sum|xi - xj| / (2 M^2) = 4 / 8: 1.5 at every step
    expect(at(2, 'mean', 1).validation.crps).toBeCloseTo(1.5, 12);
    expect(at(2, 'mean', 1).validation.wcrps).toBeCloseTo(0.015, 12);
    expect(at(2, 'mean', 1).latencyMs).toBeGreaterThanOrEqual(0);
    expect(at(2, 'mean', 2).latencyMs).toBe(at(2, 'mean', 1).latencyMs);
    expect(Array.from(r.realized.FLAT.validation)).toEqual([0, 0]);
    expect(Array.from(at(3, 'median', 2).predicted.test)).toEqual([0.06, 0.06].map((x) => expect.closeTo(x, 12)));
  });

  it('chooses on validation only, breaking ties by latency then paths, and weights an ensemble by inverse validation error', async () => {
    const r = await searchSamplerSettings(flatPaths(), series, { grid, horizon: 2 });
    const best = bestPerSymbol(r.results).get('FLAT')!;
    expect(best.setting).toMatchObject({ samples: 2, temperature: 1 });
    expect(best.validation.pctReturnMae).toBeCloseTo(0.02, 12);
    // validation errors 0.02, 0.02, 0.03, ...: weights 1/0.02 : 1/0.02 : 1/0.03 = 0.375 : 0.375 : 0.25
    const e = inverseErrorEnsemble(r, 'FLAT', 3);
    expect(e.members.map((m) => m.weight)).toEqual([0.375, 0.375, 0.25].map((x) => expect.closeTo(x, 12)));
    expect(e.members[2].setting).toMatchObject({ samples: 3, aggregation: 'median', temperature: 1 });
    expect(e.test.pctReturnMae).toBeCloseTo(0.375 * 0.02 + 0.375 * 0.02 + 0.25 * 0.03, 12);
    expect(() => inverseErrorEnsemble(r, 'NOPE')).toThrow(ConfigError);
  });

  it('breaks an exact validation tie by lower latency', () => {
    const base = { symbol: 'X', validation: { n: 1, pctReturnMae: 0.01, pctReturnMaeSe: 0, crps: 0, wcrps: 0 }, test: { n: 1, pctReturnMae: 0.5, pctReturnMaeSe: 0, crps: 0, wcrps: 0 }, predicted: { validation: new Float64Array(1), test: new Float64Array(1) } };
    const slow = { ...base, setting: { samples: 64, aggregation: 'mean', lookback: 8, temperature: 1, topP: 1 }, latencyMs: 50 };
    const fast = { ...base, setting: { samples: 128, aggregation: 'mean', lookback: 8, temperature: 1, topP: 1 }, latencyMs: 20 };
    expect(bestPerSymbol([slow, fast]).get('X')).toBe(fast);
  });

  it('refuses a forecaster without paths and a bad grid', async () => {
    const quantilesOnly = flatPaths();
    const withPaths = quantilesOnly.forecast;
    quantilesOnly.forecast = async (req) => ({ meta: (await withPaths(req)).meta });
    await expect(searchSamplerSettings(quantilesOnly, series, { grid, horizon: 2 })).rejects.toThrow(/no sampled paths/);
    expect(() => expandSamplerGrid({ ...grid, aggregations: ['winsorized'] })).toThrow(ConfigError);
    expect(() => expandSamplerGrid({ ...grid, topPs: [] })).toThrow(/at least one value/);
    expect(() => expandSamplerGrid({ ...grid, samples: [0] })).toThrow(/positive integers/);
    expect(expandSamplerGrid(grid)).toHaveLength(8);
  });
});
