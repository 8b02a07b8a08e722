/**
 * Snapshots of figure builders' JSON from seeded inputs: an unintended change to a figure shows
 * as a diff of tests/plot/__snapshots__/*.json (update on purpose with `npx vitest run -u`).
 * The other tests of each builder assert what the options do.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapTrades } from '../../src/backtest/montecarlo';
import { Rng } from '../../src/core/random';
import { equityFigure, monteCarloFigure } from '../../src/plot/backtest';
import type { SettingResult } from '../../src/forecast/samplerSearch';
import { fundingRateFigure } from '../../src/plot/data';
import { fanChartFigure } from '../../src/plot/paths';
import { groupedBarsFigure, histogramFigure, linesFigure, pathBandsFigure } from '../../src/plot/series';
import { samplerByPathsFigure, samplerValidationTestFigure } from '../../src/plot/sweep';

const T0 = Date.UTC(2024, 0, 2, 14, 30);
const MIN = 60_000;
/** A seeded random walk of n closes from 100 (rounded to cents so the JSON stays short). */
function walk(rng: Rng, n: number, vol = 0.002): number[] {
  const out = [100];
  for (let i = 1; i < n; i++) out.push(Math.round(out[i - 1] * Math.exp(vol * rng.normal()) * 100) / 100);
  return out;
}
const json = (x: unknown): string => `${JSON.stringify(x, null, 1)}\n`;

describe('figure snapshots', () => {
  it('equity and drawdown on a log scale with kill-switch marks', async () => {
    const rng = new Rng(1);
    const ts = Float64Array.from({ length: 12 }, (_, i) => T0 + i * MIN);
    const a = Float64Array.from(walk(rng, 12, 0.01), (v) => v * 1000);
    const b = Float64Array.from(walk(rng, 12, 0.01), (v) => v * 1000);
    const fig = equityFigure([{ label: 'model', ts, equity: a }, { label: 'historical', ts, equity: b }], {
      title: 'seeded', logY: true,
      killEvents: [{ switch: 'maxDrawdown', time: ts[5], bar: 5, value: 0.12, threshold: 0.1, action: { kind: 'stop' }, resumeTime: null }],
    });
    expect((fig.layout.yaxis as { type?: string }).type).toBe('log');
    expect((fig.layout.yaxis2 as { type?: string }).type).toBeUndefined();
    expect(equityFigure([{ label: 'model', ts, equity: a }]).layout.yaxis).toEqual({ domain: [0.35, 1], title: { text: 'equity' } });
    await expect(json(fig)).toMatchFileSnapshot('__snapshots__/equity-log.json');
  });

  it('Monte Carlo histograms with the realised drawdown marked', async () => {
    const rng = new Rng(2);
    const returns = Array.from({ length: 30 }, () => Math.round(0.02 * rng.normal() * 1e4) / 1e4);
    const mc = bootstrapTrades(returns, { simulations: 20, seed: 3, startEquity: 100 });
    const fig = monteCarloFigure(mc, { title: 'seeded', realised: { maxDrawdownPct: 12.5 } });
    const shapes = fig.layout.shapes as Array<{ xref: string; x0: number; line: { color?: string } }>;
    expect(shapes.length).toBe(7);
    expect(shapes[6]).toMatchObject({ xref: 'x2', x0: 12.5, line: { color: '#d62728' } });
    expect((monteCarloFigure(mc).layout.shapes as unknown[]).length).toBe(6);
    await expect(json(fig)).toMatchFileSnapshot('__snapshots__/montecarlo-realised.json');
  });

  it('fan chart with what followed', async () => {
    const rng = new Rng(3);
    const H = 4;
    const closes = walk(rng, 6);
    const entry = closes[5];
    const paths = Float64Array.from({ length: 3 * H }, (_, k) => Math.round(entry * (1 + 0.001 * (k % H + 1) * ((k / H | 0) - 1)) * 100) / 100);
    const ts = Float64Array.from(closes, (_, i) => T0 + i * MIN);
    const stepTimes = Float64Array.from({ length: H }, (_, h) => T0 + (6 + h) * MIN);
    const fig = fanChartFigure({
      title: 'seeded', recent: { ts, open: Float64Array.from(closes), high: Float64Array.from(closes, (c) => c + 0.1), low: Float64Array.from(closes, (c) => c - 0.1), close: Float64Array.from(closes) },
      lastOpenMs: ts[5], entryClose: entry, stepTimes, paths: { close: paths, n: 3, horizon: H },
      bands: { levels: [0.1, 0.5, 0.9], values: [paths.subarray(0, H), paths.subarray(H, 2 * H), paths.subarray(2 * H)] },
      levels: [{ name: 'vwap', price: 100 }], followed: { ts: stepTimes, close: [entry, entry + 0.2, entry + 0.1, entry - 0.3] },
    });
    expect(fig.data[fig.data.length - 1]).toMatchObject({ name: 'what followed', y: [entry, entry + 0.2, entry + 0.1, entry - 0.3] });
    await expect(json(fig)).toMatchFileSnapshot('__snapshots__/fan-followed.json');
  });

  it('histogram, lines and sampled paths under bands', async () => {
    const rng = new Rng(4);
    const hist = histogramFigure(walk(rng, 10).map((c) => c - 100), { title: 'returns', xTitle: 'bp', yTitle: 'paths', vline: 0 });
    expect(hist.layout.shapes).toEqual([{ type: 'line', x0: 0, x1: 0, yref: 'paper', y0: 0, y1: 1, line: { dash: 'dot' } }]);
    expect(histogramFigure([1], { title: 't', name: 'paths' }).data[0]).toEqual({ type: 'histogram', x: [1], nbinsx: 40, marker: { color: '#8250df' }, name: 'paths' });
    const lines = linesFigure([{ name: 'a', x: [1, 2, 3], y: walk(rng, 3) }, { name: 'b', x: [1, 2, 3], y: walk(rng, 3) }], { title: 'lines', xTitle: 'x', yTitle: 'y', markers: true, logX: true });
    expect(lines.data.map((d) => d.mode)).toEqual(['lines+markers', 'lines+markers']);
    const paths = [walk(rng, 4), walk(rng, 4), walk(rng, 4)];
    const at = (k: number) => [0, 1, 2, 3].map((t) => [...paths.map((p) => p[t])].sort((x, y) => x - y)[Math.min(2, k)]);
    const bands = pathBandsFigure(
      { steps: [0, 1, 2, 3], paths, bands: { levels: [0.05, 0.25, 0.5, 0.75, 0.95], values: [at(0), at(0), at(1), at(2), at(2)] }, maxPaths: 2 },
      { title: 'paths', xTitle: 'bars ahead', yTitle: 'price' },
    );
    expect(bands.data.map((d) => d.name)).toEqual(['sampled paths', 'sampled paths', undefined, '5-95%', undefined, '25-75%', 'median']);
    await expect(json({ hist, lines, bands })).toMatchFileSnapshot('__snapshots__/series.json');
  });

  it('sampler search: validation against test error, error and latency by paths', async () => {
    const rng = new Rng(5);
    const grid = { samples: [64, 128], aggregations: ['mean', 'median'], lookbacks: [96, 128], temperatures: [1], topPs: [1] };
    const scores = (mae: number) => ({ n: 4, pctReturnMae: mae, pctReturnMaeSe: mae / 4, crps: 0.5, wcrps: 0.002 });
    const results: SettingResult[] = ['SYNA', 'SYNB'].flatMap((symbol) => grid.lookbacks.flatMap((lookback) => grid.aggregations.flatMap((aggregation) =>
      grid.samples.map((samples) => ({
        symbol, setting: { samples, aggregation, lookback, temperature: 1, topP: 1 },
        validation: scores(Math.round(1e6 * (0.009 + 0.001 * rng.uniform())) / 1e6), test: scores(Math.round(1e6 * (0.004 + 0.001 * rng.uniform())) / 1e6),
        latencyMs: samples * (lookback / 64), predicted: { validation: new Float64Array(0), test: new Float64Array(0) },
      })))));
    const best = new Map([['SYNA', results[3]], ['SYNB', results[9]]]);
    const scatter = samplerValidationTestFigure(results, best, { horizon: 30 });
    expect(scatter.data.map((d) => d.name)).toEqual(['SYNA', 'SYNA best', 'SYNB', 'SYNB best']);
    expect(scatter.data[1]).toMatchObject({ x: [Number((results[3].validation.pctReturnMae * 1e4).toFixed(2))], text: ['N=128 median L=96 T=1 p=1'], showlegend: true });
    expect(scatter.data[3].showlegend).toBe(false);
    expect(() => samplerValidationTestFigure(results, new Map([['SYNA', results[0]]]), { horizon: 30 })).toThrow(/no best setting for SYNB/);
    const mae = samplerByPathsFigure(results, grid, { measure: 'validationMae', lines: 'aggregation' });
    // Mean over both symbols and both lookbacks of the 64-path mean-aggregate runs, in bp of the mean.
    const at64 = results.filter((r) => r.setting.samples === 64 && r.setting.aggregation === 'mean').map((r) => r.validation.pctReturnMae);
    expect(at64.length).toBe(4);
    expect(mae.data[0]).toMatchObject({ name: 'mean', x: [64, 128], mode: 'lines+markers' });
    expect((mae.data[0].y as number[])[0]).toBe(Number((1e4 * (at64.reduce((a, b) => a + b, 0) / 4)).toFixed(2)));
    const latency = samplerByPathsFigure(results, grid, { measure: 'latency', lines: 'lookback' });
    expect(latency.data.map((d) => [d.name, d.y])).toEqual([['lookback 96', [96, 192]], ['lookback 128', [128, 256]]]);
    expect(latency.layout.yaxis).toEqual({ title: { text: 'ms (median, single window)' }, rangemode: 'tozero' });
    expect(latency.layout.xaxis).toEqual({ title: { text: 'sampled paths' }, type: 'log' });
    await expect(json({ scatter, mae, latency })).toMatchFileSnapshot('__snapshots__/sampler-search.json');
  });

  it('funding rates in the span as bars, grouped bars of shares', async () => {
    const H8 = 8 * 3_600_000;
    const rates = { ts: Float64Array.from({ length: 5 }, (_, i) => T0 - H8 + i * H8), rate: Float64Array.of(0.0001, -0.00005, 0.00012, 0.0002, 0.00003) };
    const funding = fundingRateFigure(rates, { title: 'funding', from: T0, to: T0 + 2 * H8 });
    // The first rate is before the span and the last two after it.
    expect(funding.data[0]).toMatchObject({ type: 'bar', x: [new Date(T0).toISOString(), new Date(T0 + H8).toISOString(), new Date(T0 + 2 * H8).toISOString()], y: [-0.00005 * 1e4, 0.00012 * 1e4, 0.0002 * 1e4] });
    expect(funding.layout.xaxis).toEqual({ title: { text: 'time (UTC)' }, type: 'date', range: [new Date(T0).toISOString(), new Date(T0 + 2 * H8).toISOString()] });
    const bars = groupedBarsFigure(['rvol', 'hour', 'f_pUp'], [{ name: 'A', y: [50, 30, 20] }, { name: 'B', y: [40, 40, 20] }], { title: 'gain', yTitle: '%' });
    expect(bars.layout.barmode).toBe('group');
    expect(bars.data[1]).toEqual({ type: 'bar', name: 'B', x: ['rvol', 'hour', 'f_pUp'], y: [40, 40, 20] });
    expect(() => groupedBarsFigure(['a'], [{ name: 'A', y: [1, 2] }], { title: 't' })).toThrow(/A has 2 values for 1 categories/);
    await expect(json({ funding, bars })).toMatchFileSnapshot('__snapshots__/bars.json');
  });
});
