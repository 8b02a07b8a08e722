import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors';
import { createBaseline } from '../../src/forecast/baselines';
import { openModel } from '../../src/forecast/openModel';
import { clearSessionCache } from '../../src/forecast/runtime';

const tiny = join(__dirname, 'fixtures', 'tiny-sqrt.json'); // contextLength 8, minContext 4, horizon 2
const good = new Float64Array([1, 1, 1, 1, 1, 1, 1004, 1009]);
const short = new Float64Array([1001, 1002, 1003]);

afterAll(() => clearSessionCache());

describe('configured fallback forecaster', () => {
  it('without a fallback, a short window is an error that says what to fix', async () => {
    const model = await openModel(tiny, { device: 'cpu' });
    await expect(model.forecast({ context: [good, short], horizon: 2 })).rejects.toThrow(
      /window has 3 observed closes, fewer than the 4 required: pass a longer window or configure a fallback \(row 1/,
    );
  });

  it('forecasts short windows with the fallback, counted per window, results in window order', async () => {
    const model = await openModel(tiny, { device: 'cpu', fallback: 'naive' });
    const f = await model.forecast({ context: [short, good], horizon: 2 });
    expect(f.meta.fallback.count).toBe(1);
    expect(f.meta.fallback.forecaster).toBe('naive');
    expect(f.meta.fallback.reasons[0]).toMatch(/^window 0: window has 3 observed closes/);
    const q = f.quantiles!.values;
    expect(q.dims).toEqual([2, 3, 2]);
    expect(f.quantiles!.levels).toEqual([0.1, 0.5, 0.9]); // the model's levels, asked of the fallback too
    expect(q.data[2]).toBeCloseTo(1003, 9); // naive median of window 0
    expect(Array.from(q.data.subarray(6))).toEqual([2, 3, 2, 3, 2, 3]); // the model's window 1
    expect((model as unknown as { fallbacksUsed: number }).fallbacksUsed).toBe(1);
  });

  it('uses the fallback when the model fails, and says why', async () => {
    const model = await openModel(tiny, { device: 'cpu', fallback: 'naive' });
    const f = await model.forecast({ context: new Float64Array([1, 1, 1, 1, 1, 1, 1004, 999]), horizon: 2 });
    expect(f.meta.fallback.count).toBe(1);
    expect(f.meta.fallback.reasons[0]).toMatch(/model failed \(.*produced NaN/);
    expect(f.quantiles!.values.data[2]).toBeCloseTo(999, 9);
  });

  it('uses the fallback when the model is missing, for every window', async () => {
    const model = await openModel(join(__dirname, 'fixtures', 'missing.json'), { fallback: createBaseline('historical') });
    const f = await model.forecast({ context: [good, good], horizon: 2, samples: 4 });
    expect(f.meta.fallback.count).toBe(2);
    expect(f.meta.fallback.reasons[1]).toMatch(/window 1: model unavailable \(model card cannot be read/);
    expect(f.samples!.dims).toEqual([2, 4, 2]);
  });

  it('never falls back on a user error (horizon) or a NaN-only window', async () => {
    const model = await openModel(tiny, { device: 'cpu', fallback: 'naive' });
    await expect(model.forecast({ context: good, horizon: 3 })).rejects.toThrow(/horizon 3 is beyond tiny-sqrt's 2 bars/);
    await expect(model.forecast({ context: new Float64Array(8).fill(NaN), horizon: 1 })).rejects.toThrow(ModelError);
  });
});
