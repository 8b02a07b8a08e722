import { describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { BaselineForecaster, baselinePaths, createBaseline, returnStats } from '../../src/forecast/baselines';
import { normalQuantile } from '../../src/stats/normal';
import { FallbackForecaster } from '../../src/forecast/fallback';
import { pathStatistics } from '../../src/forecast/paths/stats';
import { barsToArrays, loadBars } from '../../src/data';
import { realData } from '../support/paths';

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

  it('window statistics: each return is log(b) - log(a) of a pair of positive closes, in order, exactly', () => {
    const w = new Float64Array([100, 0, 101, 102.5, -1, NaN, 99, 98.25, 98.25, 100.5]);
    const want: number[] = [];
    for (let i = 1; i < w.length; i++) if (w[i - 1] > 0 && w[i] > 0) want.push(Math.log(w[i]) - Math.log(w[i - 1]));
    const s = returnStats(w);
    expect([...s.returns]).toEqual(want); // toEqual on numbers: the same doubles
    expect(s.returns.length).toBe(4);
    expect(s.returns[2]).toBe(0); // an unchanged close
    expect(s.returns.buffer.byteLength).toBe(4 * 8); // no spare tail behind the returns
    expect(returnStats(new Float64Array([])).returns.length).toBe(0);
    expect(returnStats(new Float64Array([5])).returns.length).toBe(0);
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

  it('says how its bootstrap drew in meta.samplesMethod (default stationary blocks of mean length 10)', async () => {
    const req = { context: window, horizon: 3, samples: 4, seed: 1 };
    expect((await createBaseline('historical').forecast(req)).meta.samplesMethod).toBe('stationary blocks (mean length 10)');
    const blocks3 = new BaselineForecaster({ kind: 'historical', bootstrap: { kind: 'stationary', meanBlock: 3 } });
    expect((await blocks3.forecast(req)).meta.samplesMethod).toBe('stationary blocks (mean length 3)');
    expect((await new BaselineForecaster({ kind: 'historical', bootstrap: { kind: 'iid' } }).forecast(req)).meta.samplesMethod).toBe('iid draws');
    expect((await createBaseline('historical').forecast({ ...req, samples: 0 })).meta.samplesMethod).toBeUndefined();
    expect((await createBaseline('naive').forecast(req)).meta.samplesMethod).toBeUndefined();
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

describe('historical: bootstrap of whole past bars', () => {
  // Each bar's high and low relative to its own close differ per bar, so a sampled step names its source bar.
  const highs = Float64Array.from(window, (c, i) => c * (1 + 0.001 * (i + 1)));
  const lows = Float64Array.from(window, (c, i) => c * (1 - 0.0005 * (i + 1)));
  const iid = new BaselineForecaster({ kind: 'historical', bootstrap: { kind: 'iid' } });

  it('same closes as the close-only bootstrap, plus highs and lows of the drawn bars', async () => {
    const plain = await iid.forecast({ context: window, horizon: 8, samples: 50, seed: 4 });
    const bars = await iid.forecast({ context: window, horizon: 8, samples: 50, seed: 4, contextHighLow: { high: highs, low: lows } });
    expect(bars.samples!.data).toEqual(plain.samples!.data);
    expect(plain.samplesHighLow).toBeUndefined();
    const { high, low } = bars.samplesHighLow!;
    expect(high.dims).toEqual([1, 50, 8]);
    const c = bars.samples!.data;
    for (let j = 0; j < 50; j++) {
      for (let h = 0; h < 8; h++) {
        const i = j * 8 + h;
        const prev = h === 0 ? last : c[i - 1];
        // the source bar k: its close return, and its high / low over its close, all from the same k
        const k = rs.findIndex((r, m) => Math.abs(Math.log(c[i] / prev) - r) < 1e-12 && Math.abs(high.data[i] / c[i] - highs[m + 1] / window[m + 1]) < 1e-12);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(low.data[i] / c[i]).toBeCloseTo(lows[k + 1] / window[k + 1], 12);
        expect(low.data[i]).toBeLessThanOrEqual(c[i]);
        expect(high.data[i]).toBeGreaterThanOrEqual(c[i]);
      }
    }
  });

  it('other baselines ignore highs and lows; bad bars and misaligned arrays are errors', async () => {
    const naive = await createBaseline('naive').forecast({ context: window, horizon: 3, samples: 4, contextHighLow: { high: highs, low: lows } });
    expect(naive.samplesHighLow).toBeUndefined();
    const badHigh = highs.slice();
    badHigh[3] = window[3] * 0.99;
    await expect(iid.forecast({ context: window, horizon: 3, samples: 4, contextHighLow: { high: badHigh, low: lows } })).rejects.toThrow(/bar 3 of the window cannot be bootstrapped/);
    await expect(iid.forecast({ context: window, horizon: 3, samples: 4, contextHighLow: { high: highs.subarray(1), low: lows } })).rejects.toThrow(/highs and .* lows for 7 closes/);
    expect(() => baselinePaths({ kind: 'naive' }, window, 2, 1, new Rng(0), new Float64Array(2), 0, { high: highs, low: lows, outHigh: new Float64Array(2), outLow: new Float64Array(2) })).toThrow(/closes only/);
  });

  it('the fallback wrapper passes highs and lows through and keeps them when every part has them', async () => {
    const fb = new FallbackForecaster(null, iid, 'no model');
    const f = await fb.forecast({ context: [window, window], horizon: 3, samples: 4, seed: 1, contextHighLow: { high: [highs, highs], low: [lows, lows] } });
    expect(f.samplesHighLow!.high.dims).toEqual([2, 4, 3]);
    expect(f.meta.fallback.count).toBe(2);
    expect(f.meta.samplesMethod).toBe('iid draws');
  });
});

describe('historical paths: prices that did not move stay exactly equal', () => {
  it('constant prices give paths exactly at the last close, pUp 0 and pFlat 1', () => {
    const flat = new Float64Array(50).fill(11.27);
    const out = new Float64Array(20 * 5);
    baselinePaths({ kind: 'historical' }, flat, 5, 20, new Rng(3), out, 0);
    expect(out.every((x) => x === 11.27)).toBe(true);
    const s = pathStatistics({ close: out, n: 20, horizon: 5 }, 11.27);
    expect([s.pUp, s.pDown, s.pFlat]).toEqual([0, 0, 1]);
  });

  it('on the recorded A-share 5-minute bars, paths that come back to the close are flat', () => {
    const bars = barsToArrays(loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000 }));
    const closes = bars.close.subarray(bars.close.length - 512);
    const entry = closes[closes.length - 1];
    const n = 100;
    const h = 3;
    const out = new Float64Array(n * h);
    baselinePaths({ kind: 'historical' }, closes, h, n, new Rng(1), out, 0);
    let exact = 0;
    let near = 0;
    for (let j = 0; j < n; j++) {
      const end = out[j * h + h - 1];
      if (end === entry) exact++;
      if (Math.abs(end / entry - 1) <= 1e-9) near++;
    }
    // A-share prices move in 0.01 ticks: many bootstrapped paths end where they started.
    expect(exact).toBeGreaterThan(5);
    const s = pathStatistics({ close: out, n, horizon: h }, entry);
    expect(s.pFlat).toBe(near / n);
    expect(s.pUp + s.pDown + s.pFlat).toBeCloseTo(1, 15);
    expect(near).toBeGreaterThanOrEqual(exact);
  });
});
