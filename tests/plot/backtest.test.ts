import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/engine';
import { bootstrapTrades } from '../../src/backtest/montecarlo';
import { LIMIT_NAMES, type LimitName } from '../../src/backtest/result';
import { equityFigure, exposureFigure, limitBindingFigure, monteCarloFigure, regimeFigure } from '../../src/plot/backtest';
import { cfg, constSignals, flat, market } from '../backtest/fixtures';

describe('backtest figures', () => {
  const p = [100, 100, 100, 70, 70, 80];
  const m = market({ A: { open: p, close: p }, B: flat(6) });
  const r = runBacktest(m, constSignals(m, 0.012, 0.1), cfg({ defaultClass: 'stock', killSwitches: { maxDrawdown: { threshold: 0.1 }, dailyLoss: null, consecutiveLosses: null, fundingSpike: null } }));

  it('draws equity over drawdown (percent below the peak) and marks kill events', () => {
    const f = equityFigure([{ label: 'run', ts: r.ts, equity: r.equity }], { killEvents: r.killEvents });
    expect(f.data.map((t) => t.name)).toEqual(['run', 'run drawdown', 'kill switch']);
    expect(f.data[0].y).toEqual(Array.from(r.equity));
    const dd = f.data[1].y as number[];
    expect(dd[0]).toBe(0);
    expect(Math.min(...dd)).toBeCloseTo(-100 * (1 - Math.min(...r.equity) / Math.max(r.equity[0], r.equity[1], r.equity[2])), 9);
    expect(f.data[2].text).toEqual([expect.stringMatching(/^maxDrawdown \(stop\)/)]);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });

  it('gives each series one colour on both panels', () => {
    const f = equityFigure([{ label: 'a', ts: r.ts, equity: r.equity }, { label: 'b', ts: r.ts, equity: r.equity }]);
    const color = (i: number) => (f.data[i].line as { color: string }).color;
    expect(color(0)).toBe(color(1));
    expect(color(2)).toBe(color(3));
    expect(color(0)).not.toBe(color(2));
  });

  it('draws gross leverage against the class caps', () => {
    const f = exposureFigure(r);
    expect(f.data.map((t) => t.name)).toEqual(['gross leverage', 'stock intraday cap', 'stock at-close cap']);
    expect(f.data[1].y).toEqual([4, 4]);
    expect(f.data[2].y).toEqual([2, 2]);
  });

  it('counts limit binds per limit and symbol, and places them in time', () => {
    const f = limitBindingFigure(r);
    expect(f.data.slice(0, 2).map((t) => t.name)).toEqual(['A', 'B']);
    expect(f.data[0].y).toEqual(['perSymbolCap', 'grossIntraday', 'grossAtClose', 'longOnly', 'minTrade', 'cash'].map((l) => r.limits.bySymbol[l as 'cash'][0]));
    const timeline = f.data.filter((t) => t.xaxis === 'x2');
    expect(timeline.length).toBeGreaterThan(0);
  });

  it('places kill events and limit binds at their bar times, as ISO-8601 UTC', () => {
    const kills = equityFigure([{ label: 'run', ts: r.ts, equity: r.equity }], { killEvents: r.killEvents }).data[2];
    expect(kills.x).toEqual(r.killEvents.map((e) => new Date(e.time).toISOString()));
    const timeline = limitBindingFigure(r).data.filter((t) => t.xaxis === 'x2');
    expect(timeline.length).toBeGreaterThan(0);
    for (const trace of timeline) {
      const bit = LIMIT_NAMES.indexOf(String(trace.name).replace(/ binds$/, '') as LimitName);
      expect(bit).toBeGreaterThanOrEqual(0);
      const want = Array.from(r.ts).filter((_, t) => r.limits.bindingMask[t] & (1 << bit)).map((t) => new Date(t).toISOString());
      expect(trace.x).toEqual(want);
    }
  });

  it('histograms Monte Carlo paths with percentile marks', () => {
    const mc = bootstrapTrades([0.01, -0.02, 0.03], { simulations: 200, seed: 1 });
    const f = monteCarloFigure(mc);
    expect((f.data[0].x as number[]).length).toBe(200);
    expect((f.layout.shapes as unknown[]).length).toBe(6);
  });

  it('colours closes by regime', () => {
    const f = regimeFigure(Float64Array.of(0, 1, 2), Float64Array.of(1, 2, 3), Uint8Array.of(0, 3, 0));
    expect(f.data.map((t) => t.name)).toEqual(['trend', 'chop', 'highVol', 'shock']);
    expect(f.data[0].y).toEqual([1, null, 3]);
    expect(f.data[3].y).toEqual([null, 2, null]);
  });
});
