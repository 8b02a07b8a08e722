import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barsToArrays, loadBars, type BarArrays } from '../../../src/data';
import { BaselineForecaster, createBaseline } from '../../../src/forecast/baselines';
import { FallbackForecaster } from '../../../src/forecast/fallback';
import { openModel } from '../../../src/forecast/openModel';
import { forecastOutlook, quietWindowsHit } from '../../../src/forecast/paths/pathOutlook';
import { prepareOutlook } from '../../../src/forecast/paths/prepare';
import { probAboveFromQuantiles } from '../../../src/forecast/paths/quantileCurve';
import { barrierStats } from '../../../src/forecast/paths/stats';
import { clearSessionCache } from '../../../src/forecast/runtime';
import type { Forecaster } from '../../../src/forecast/types';
import { realData } from '../../support/paths';

const MODELS = join(__dirname, '..', '..', '..', 'models');
const MIN = 60_000;
let btc: BarArrays;
let ashare: BarArrays;

beforeAll(() => {
  btc = barsToArrays(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.feather')));
  ashare = barsToArrays(loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 5 * MIN }));
});
afterAll(() => clearSessionCache());

function band(o: Awaited<ReturnType<typeof forecastOutlook>>, step: number): number {
  const [p10, , p90] = o.stats.bands.values;
  return p90[step] - p10[step];
}

describe('forecastOutlook on real data', () => {
  it('historical baseline on 1-minute BTC (24x7): whole bars, checked paths, VWAP touch from highs and lows', async () => {
    const model = createBaseline('historical');
    const prepared = prepareOutlook(btc, { barMs: MIN, session: '24x7', lookback: 480, contextLength: model.info.contextLength });
    const o = await forecastOutlook(model, prepared, { horizon: 30, samples: 200, seed: 5, session: '24x7', levels: [{ name: 'R', price: prepared.current.close * 1.002 }] });
    expect([o.paths.n, o.paths.horizon, o.paths.close.length, o.paths.high!.length]).toEqual([200, 30, 6000, 6000]);
    expect(o.paths.close.every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    expect(o.stats.extremesFrom).toBe('highLow');
    expect(o.pathSource).toBe('bootstrap');
    expect(o.pathMethod).toMatch(/whole past bars/);
    expect(new Date(o.stepTimes[0]).toISOString()).toBe('2017-11-14T23:00:00.000Z');
    for (let h = 1; h < 30; h++) expect(o.stepTimes[h] - o.stepTimes[h - 1]).toBe(MIN);
    const vwap = barrierStats(o.paths, prepared.current.close, { name: 'vwap', price: prepared.vwap });
    expect(o.pHitVwap).toBe(vwap.pHit);
    expect(o.stats.barriers.map((b) => b.name)).toEqual(['vwap', 'midband', 'R']);
    expect(o.quiet).toBe(false);
    const again = await forecastOutlook(model, prepared, { horizon: 30, samples: 200, seed: 5, session: '24x7' });
    expect(again.paths.close).toEqual(o.paths.close);
    expect(o.pathMethod).toMatch(/stationary blocks \(mean length 10\)$/);
  });

  it('describes the bootstrap the forecaster used, also behind the fallback wrapper', async () => {
    const iid = new FallbackForecaster(null, new BaselineForecaster({ kind: 'historical', bootstrap: { kind: 'iid' } }), 'no model');
    const prepared = prepareOutlook(btc, { barMs: MIN, session: '24x7', lookback: 120, contextLength: iid.info.contextLength });
    const o = await forecastOutlook(iid, prepared, { horizon: 5, samples: 20, seed: 1, session: '24x7' });
    expect(o.pathSource).toBe('bootstrap');
    expect(o.pathMethod).toMatch(/, iid draws$/);
    expect(o.pathMethod).not.toMatch(/stationary/);
  });

  it('quantile model on 5-minute A-shares (cn-a): copula paths after the lunch break; pUp agrees with the quantiles', async () => {
    const model = await openModel(join(MODELS, 'qb-quantile-s.json'), { device: 'cpu' });
    const prepared = prepareOutlook(ashare, { barMs: 5 * MIN, session: 'cn-a', lookback: 480, contextLength: model.info.contextLength });
    expect(new Date(prepared.lastOpenMs).toISOString()).toBe('2024-08-29T03:25:00.000Z'); // 11:25 Shanghai, the bar before lunch
    const N = 4000;
    const o = await forecastOutlook(model, prepared, { horizon: 30, samples: N, seed: 2, session: 'cn-a', sampling: { temperature: 0.5 } });
    expect(new Date(o.stepTimes[0]).toISOString()).toBe('2024-08-29T05:00:00.000Z'); // 13:00
    expect(o.pathSource).toBe('quantileCopula');
    expect(o.pathMethod).toMatch(/Brownian copula/);
    expect(o.notes.join(' ')).toMatch(/ignores them/);
    expect(o.stats.extremesFrom).toBe('highLow'); // closes from the copula, highs and lows from the Brownian bridge
    // The same forecast's quantiles give P(up) at step 30 exactly (same interpolation and tails).
    const f = await model.forecast({ context: prepared.context.close, horizon: 30 });
    const q = f.quantiles!;
    const atH = q.levels.map((_, k) => q.values.data[k * 30 + 29]);
    const exact = probAboveFromQuantiles(q.levels, atH, prepared.current.close);
    expect(Math.abs(o.stats.pUp - exact)).toBeLessThan(4 * Math.sqrt((exact * (1 - exact)) / N));
  });

  it('shipped AR model: lower temperature or lower top-p narrows the 10-90 band (fixed seeds)', async () => {
    const model: Forecaster = await openModel(join(MODELS, 'qb-ar-s.json'), { device: 'cpu' });
    const prepared = prepareOutlook(btc, { barMs: MIN, session: '24x7', lookback: 256, contextLength: model.info.contextLength });
    const run = (sampling: { temperature: number; topP: number }) =>
      forecastOutlook(model, prepared, { horizon: 30, samples: 64, seed: 9, session: '24x7', sampling: { ...sampling, samplesPerBatch: 16 } });
    const base = await run({ temperature: 1, topP: 1 });
    const cold = await run({ temperature: 0.6, topP: 1 });
    const nucleus = await run({ temperature: 1, topP: 0.6 });
    for (const step of [9, 29]) {
      expect(band(cold, step)).toBeLessThan(0.9 * band(base, step));
      expect(band(nucleus, step)).toBeLessThan(0.9 * band(base, step));
    }
    expect(base.pathSource).toBe('model');
    expect(base.meta.sampling).toMatchObject({ temperature: 1, topP: 1, seed: 9 });
    // the model samples closes; highs and lows come from the Brownian bridge, so touches are no longer closes-only lower bounds
    expect(base.pathMethod).toMatch(/; highs and lows by a Brownian bridge per step/);
    expect(base.stats.extremesFrom).toBe('highLow');
  });

  it('quiet windows flag the forecast (still computed); the oracle is refused', async () => {
    expect(quietWindowsHit([{ label: 'CPI', startMs: 10, endMs: 20 }, { label: 'FOMC', startMs: 30, endMs: 40 }], 15, 30).map((w) => w.label)).toEqual(['CPI']);
    const model = createBaseline('historical');
    const prepared = prepareOutlook(btc, { barMs: MIN, session: '24x7', lookback: 100, contextLength: 512 });
    const cpi = { label: 'CPI', startMs: prepared.asOfMs + 20 * MIN, endMs: prepared.asOfMs + 25 * MIN };
    const o = await forecastOutlook(model, prepared, { horizon: 30, samples: 10, session: '24x7', quietWindows: [cpi] });
    expect([o.quiet, o.quietWindows]).toEqual([true, [cpi]]);
    expect(Number.isFinite(o.stats.pUp)).toBe(true);
    const later = await forecastOutlook(model, prepared, { horizon: 10, samples: 10, session: '24x7', quietWindows: [cpi] });
    expect(later.quiet).toBe(false); // ends before the window opens
    await expect(forecastOutlook(createBaseline('oracle'), prepared, { horizon: 5, samples: 5, session: '24x7' })).rejects.toThrow(/oracle/);
  });
});
