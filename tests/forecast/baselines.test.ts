import { describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { baselinePaths, createBaseline, normalQuantile, returnStats } from '../../src/forecast/baselines';

// Closes 100 * exp(cumulative returns r = [0.01, -0.02, 0.03, 0.00, 0.01, -0.01])
const rs = [0.01, -0.02, 0.03, 0.0, 0.01, -0.01];
const window = new Float64Array(rs.length + 1);
window[0] = 100;
rs.forEach((r, i) => (window[i + 1] = window[i] * Math.exp(r)));
const last = window[window.length - 1];
const rms = Math.sqrt(rs.reduce((a, r) => a + r * r, 0) / rs.length);
const mean = rs.reduce((a, b) => a + b, 0) / rs.length;
const sd = Math.sqrt(rs.reduce((a, r) => a + (r - mean) ** 2, 0) / (rs.length - 1));

describe('baselines', () => {
  it('normal quantiles match tabulated values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.9)).toBeCloseTo(1.281551566, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 8);
    expect(normalQuantile(0.5)).toBe(0);
  });

  it('window statistics skip missing bars', () => {
    const s = returnStats(new Float64Array([100, NaN, 110, 121]));
    expect(s.returns.length).toBe(1);
    expect(s.drift).toBeCloseTo(Math.log(1.1), 12);
    expect(s.last).toBe(121);
  });

  it('naive: no change, log-normal spread rms * sqrt(h)', async () => {
    const f = await createBaseline('naive').forecast({ context: window, horizon: 4, quantileLevels: [0.1, 0.5, 0.9] });
    const q = f.quantiles!.values;
    expect(q.dims).toEqual([1, 3, 4]);
    expect(q.data[4 + 3]).toBeCloseTo(last, 10); // median, h = 4
    expect(q.data[8 + 3]).toBeCloseTo(last * Math.exp(normalQuantile(0.9) * rms * 2), 10);
    expect(q.data[0]).toBeCloseTo(last * Math.exp(normalQuantile(0.1) * rms), 10);
    expect(f.meta).toMatchObject({ model: 'naive', family: 'baseline', device: 'none', samplesFrom: 'none' });
  });

  it('trend: half the last 5-bar change, the same at every step', async () => {
    const f = await createBaseline('trend').forecast({ context: window, horizon: 3, quantileLevels: [0.5] });
    const expected = last + 0.5 * (last - window[window.length - 6]);
    expect(Array.from(f.quantiles!.values.data).map((v) => +v.toFixed(9))).toEqual([expected, expected, expected].map((v) => +v.toFixed(9)));
  });

  it('historical: normal fit of drift and volatility, or empirical h-bar returns', async () => {
    const normal = await createBaseline('historical').forecast({ context: window, horizon: 2, quantileLevels: [0.9] });
    expect(normal.quantiles!.values.data[1]).toBeCloseTo(last * Math.exp(2 * mean + normalQuantile(0.9) * sd * Math.SQRT2), 10);
    const { BaselineForecaster } = await import('../../src/forecast/baselines');
    const emp = await new BaselineForecaster({ kind: 'historical', distribution: 'empirical' }).forecast({ context: window, horizon: 1, quantileLevels: [0.5] });
    // median of the six one-bar returns: sorted [-0.02,-0.01,0,0.01,0.01,0.03] -> 0.005
    expect(emp.quantiles!.values.data[0]).toBeCloseTo(last * Math.exp(0.005), 10);
  });

  it('historical paths bootstrap only returns seen in the window', () => {
    const out = new Float64Array(50 * 5);
    baselinePaths({ kind: 'historical', bootstrap: { kind: 'stationary', meanBlock: 3 } }, window, 5, 50, new Rng(1), out, 0);
    for (let j = 0; j < 50; j++) {
      let prev = last;
      for (let h = 0; h < 5; h++) {
        const r = Math.log(out[j * 5 + h] / prev);
        expect(rs.some((x) => Math.abs(x - r) < 1e-12)).toBe(true);
        prev = out[j * 5 + h];
      }
    }
  });

  it('samples are seeded: same seed same paths, another seed other paths', async () => {
    const b = createBaseline('historical');
    const a1 = await b.forecast({ context: window, horizon: 3, samples: 20, seed: 5 });
    const a2 = await b.forecast({ context: window, horizon: 3, samples: 20, seed: 5 });
    const a3 = await b.forecast({ context: window, horizon: 3, samples: 20, seed: 6 });
    expect(a1.samples!.data).toEqual(a2.samples!.data);
    expect(a1.samples!.data).not.toEqual(a3.samples!.data);
    expect(a1.meta.samplesFrom).toBe('bootstrap');
  });

  it('oracle returns the realised future and refuses to run without it', async () => {
    const oracle = createBaseline('oracle');
    const future = new Float64Array([1, 2, 3]);
    const f = await oracle.forecast({ context: window, horizon: 3, samples: 2, future: [future] });
    expect(Array.from(f.samples!.data)).toEqual([1, 2, 3, 1, 2, 3]);
    await expect(oracle.forecast({ context: window, horizon: 3 })).rejects.toThrow(/only inside evaluation/);
  });

  it('bad input: unknown name, short or NaN-only windows, horizon', async () => {
    expect(() => createBaseline('arima')).toThrow(ConfigError);
    await expect(createBaseline('trend').forecast({ context: new Float64Array([1, 2, 3]), horizon: 1 })).rejects.toThrow(/fewer than the 6 required/);
    await expect(createBaseline('naive').forecast({ context: new Float64Array([NaN, NaN]), horizon: 1 })).rejects.toThrow(/no observed close/);
    await expect(createBaseline('naive').forecast({ context: window, horizon: 0 })).rejects.toThrow(ModelError);
  });
});
