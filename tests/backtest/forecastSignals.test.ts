import { describe, expect, it } from 'vitest';
import { forecastSignals } from '../../src/backtest/forecastSignals';
import { runBacktest } from '../../src/backtest/engine';
import { pUpFromQuantiles } from '../../src/backtest/outlookStrategy';
import { createBaseline } from '../../src/forecast/baselines';
import { Rng } from '../../src/core/random';
import type { Forecaster } from '../../src/forecast/types';
import { cfg, market } from './fixtures';

function walk(seed: number, n: number): number[] {
  const rng = new Rng(seed);
  let p = 100;
  return Array.from({ length: n }, () => (p *= Math.exp(0.01 * rng.normal())));
}

describe('forecaster -> per-bar signals', () => {
  const a = walk(1, 120);
  const b = walk(2, 120).map((p, t) => (t === 50 ? NaN : p));
  const m = market({ A: { open: a, close: a }, B: { open: b, close: b } });

  it('matches the forecaster called on the window ending at t, and says where it could not forecast', async () => {
    const hist = createBaseline('historical', { lookback: 40 });
    const fs = await forecastSignals(m, hist, { horizonBars: 5, batchSize: 37 });
    const t = 80;
    const window = Float64Array.from(a.slice(t + 1 - 40, t + 1));
    const f = await hist.forecast({ context: window, horizon: 5 });
    const q = f.quantiles!;
    const v = (j: number): number => q.values.data[j * 5 + 4];
    expect(fs.signals.mu[t * 2]).toBeCloseTo(v(4) / a[t] - 1, 12);
    expect(fs.signals.sigma[t * 2]).toBeCloseTo(Math.max((v(8) - v(0)) / (2 * a[t]), 0.005), 12);
    expect(fs.pUp[t * 2]).toBeCloseTo(pUpFromQuantiles(q.levels, Float64Array.from({ length: 9 }, (_, j) => v(j)), a[t]), 12);
    // historical needs 3 closes: bars 0 and 1 of each symbol have none; B's missing bar has none either.
    expect(fs.signals.valid[0]).toBe(0);
    expect(fs.signals.valid[2 * 2]).toBe(1);
    expect(fs.signals.valid[50 * 2 + 1]).toBe(0);
    expect(fs.meta.noForecast).toBe(4);
    expect(fs.meta.calls).toBe(Math.ceil(fs.meta.windows / 37));
    expect(fs.signals.lookAhead).toBe(false);
  });

  it('with sampled paths, mu is their mean by default or the asked point aggregate of the closes at the horizon', async () => {
    const hist = createBaseline('historical', { lookback: 40 });
    const opts = { horizonBars: 5, samples: 64, seed: 3, batchSize: 1 };
    const plain = await forecastSignals(m, hist, opts);
    const mean = await forecastSignals(m, hist, { ...opts, aggregate: 'mean' });
    // The paths the median run was given, window by window.
    const seen: Array<{ last: number; paths: ArrayLike<number> }> = [];
    const spy: Forecaster = {
      info: hist.info,
      forecast: async (req) => {
        const f = await hist.forecast(req);
        const c = (req.context as Float64Array[])[0];
        seen.push({ last: c[c.length - 1], paths: f.samples!.data });
        return f;
      },
      close: () => hist.close(),
    };
    const median = await forecastSignals(m, spy, { ...opts, aggregate: 'median' });
    const t = 80;
    const paths = seen.find((v) => v.last === a[t])!.paths;
    const last = Array.from({ length: 64 }, (_, n) => paths[n * 5 + 4]).sort((x, y) => x - y);
    const i = t * 2;
    expect(mean.signals.mu[i]).toBeCloseTo(plain.signals.mu[i], 12);
    expect(median.signals.mu[i]).toBeCloseTo(((last[31] + last[32]) / 2) / a[t] - 1, 12);
    expect(median.signals.mu[i]).not.toBeCloseTo(mean.signals.mu[i], 8);
    // sigma and pUp stay the paths'.
    expect(Array.from(median.signals.sigma)).toEqual(Array.from(plain.signals.sigma));
    expect(Array.from(median.pUp)).toEqual(Array.from(plain.pUp));
    await expect(forecastSignals(m, hist, { ...opts, aggregate: 'mode' })).rejects.toThrow(/aggregate/);
  });

  it('lets the oracle see the future only where it exists, and flags it', async () => {
    const fs = await forecastSignals(m, createBaseline('oracle'), { horizonBars: 5 });
    expect(fs.signals.lookAhead).toBe(true);
    expect(fs.signals.mu[10 * 2]).toBeCloseTo(a[15] / a[10] - 1, 12);
    expect(fs.signals.valid[(120 - 5) * 2]).toBe(0);
    // B's gap at 50 hides the future of bars 45..49 (and 50 itself has no close).
    expect(Array.from({ length: 7 }, (_, k) => fs.signals.valid[(44 + k) * 2 + 1])).toEqual([1, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps decisions at or before t unchanged when later bars change (forecaster in the loop)', async () => {
    const hist = createBaseline('historical', { lookback: 30 });
    const run = async (mk: typeof m) => runBacktest(mk, (await forecastSignals(mk, hist, { horizonBars: 5 })).signals, cfg({ defaultClass: 'perp', killSwitches: {} }), { recordDecisions: true });
    const ref = await run(m);
    const t = 70;
    const a2 = a.map((p, i) => (i > t ? p * 1.3 : p));
    const b2 = b.map((p, i) => (i > t ? p * 0.7 : p));
    const r = await run(market({ A: { open: a2, close: a2 }, B: { open: b2, close: b2 } }));
    expect(Array.from(r.decisions!.subarray(0, (t + 1) * 2))).toEqual(Array.from(ref.decisions!.subarray(0, (t + 1) * 2)));
    expect(Array.from(r.decisions!.subarray((t + 1) * 2))).not.toEqual(Array.from(ref.decisions!.subarray((t + 1) * 2)));
  });

  it('forecasts only the asked range, reading context from before it', async () => {
    const fs = await forecastSignals(m, createBaseline('trend'), { horizonBars: 5, range: { start: 60, end: 100 } });
    expect(fs.signals.valid[59 * 2]).toBe(0);
    expect(fs.signals.valid[60 * 2]).toBe(1);
    expect(fs.signals.valid[100 * 2]).toBe(0);
    expect(fs.meta.windows).toBe(80);
  });
});
