/**
 * Snapshots of figure builders' JSON from seeded inputs: an unintended change to a figure shows
 * as a diff of tests/plot/__snapshots__/*.json (update on purpose with `npx vitest run -u`).
 * The other tests of each builder assert what the options do.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapTrades } from '../../src/backtest/montecarlo';
import { Rng } from '../../src/core/random';
import { equityFigure, monteCarloFigure } from '../../src/plot/backtest';
import { fanChartFigure } from '../../src/plot/paths';
import { histogramFigure, linesFigure, pathBandsFigure } from '../../src/plot/series';

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
});
