import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors';
import { syntheticSeries } from '../../src/data/synthetic';
import { openModel } from '../../src/forecast/openModel';
import { clearSessionCache } from '../../src/forecast/runtime';

const CARD = join(__dirname, '..', '..', 'models', 'qb-quantile-s.json');
const closes = syntheticSeries({ seed: 5, n: 700 }).close;
const window = closes.slice(0, 512);

afterAll(() => clearSessionCache());

describe('shipped quantile model', () => {
  it('returns [B, Q, H] quantiles at the card levels, non-crossing, around the last close', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    expect(model.info).toMatchObject({ family: 'quantile', contextLength: 512, minContext: 64, maxHorizon: 32 });
    const f = await model.forecast({ context: [window, closes.slice(100, 612)], horizon: 30 });
    const q = f.quantiles!;
    expect(q.levels).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(q.values.dims).toEqual([2, 9, 30]);
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 30; h++) {
        for (let j = 1; j < 9; j++) expect(q.values.data[(b * 9 + j) * 30 + h]).toBeGreaterThanOrEqual(q.values.data[(b * 9 + j - 1) * 30 + h]);
      }
    }
    const last = window[511];
    const median = q.values.data[4 * 30 + 29];
    expect(Math.abs(median / last - 1)).toBeLessThan(0.05);
    // the 80% interval widens with the horizon
    const width = (h: number) => q.values.data[8 * 30 + h] - q.values.data[0 * 30 + h];
    expect(width(29)).toBeGreaterThan(width(0));
    expect(f.meta).toMatchObject({ model: 'qb-quantile-s', family: 'quantile', device: 'cpu', batch: 2, samplesFrom: 'none' });
  });

  it('reads a shorter window as left-padded with NaN and longer ones by their last 512 closes', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const short = window.slice(312);
    const padded = new Float64Array(512).fill(NaN);
    padded.set(short, 312);
    const [a, b, c, d] = await Promise.all([
      model.forecast({ context: short, horizon: 4 }),
      model.forecast({ context: padded, horizon: 4 }),
      model.forecast({ context: closes.slice(0, 600), horizon: 4 }),
      model.forecast({ context: closes.slice(88, 600), horizon: 4 }),
    ]);
    expect(a.quantiles!.values.data).toEqual(b.quantiles!.values.data);
    expect(c.quantiles!.values.data).toEqual(d.quantiles!.values.data);
  });

  it('derives comonotone samples when asked', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const f = await model.forecast({ context: window, horizon: 3, samples: 10 });
    expect(f.samples!.dims).toEqual([1, 10, 3]);
    expect(f.meta.samplesFrom).toBe('quantiles');
    // path 0 sits at level 0.05: below the 0.1 quantile at every step
    for (let h = 0; h < 3; h++) expect(f.samples!.data[h]).toBeLessThan(f.quantiles!.values.data[h]);
  });

  it('bad input is a ModelError that says what to fix', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    await expect(model.forecast({ context: window, horizon: 33 })).rejects.toThrow(/horizon 33 is beyond qb-quantile-s's 32 bars/);
    await expect(model.forecast({ context: window.slice(0, 50), horizon: 5 })).rejects.toThrow(/50 observed closes, fewer than the 64 required/);
    await expect(model.forecast({ context: new Float64Array(512).fill(NaN), horizon: 5 })).rejects.toThrow(/no observed close/);
    const negative = window.slice();
    negative[100] = -1;
    await expect(model.forecast({ context: negative, horizon: 5 })).rejects.toThrow(/close -1 at position 100 is not positive/);
    await expect(model.forecast({ context: [], horizon: 5 })).rejects.toThrow(ModelError);
    await expect(model.forecast({ context: [new Float32Array(512) as unknown as Float64Array], horizon: 5 })).rejects.toThrow(/must be a Float64Array/);
  });
});
