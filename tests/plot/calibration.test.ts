import { describe, expect, it } from 'vitest';
import { consistencyBands } from '../../src/calibration/consistency';
import { coverageFromQuantiles } from '../../src/calibration/coverage';
import { pitHistogram } from '../../src/calibration/pit';
import { reliabilityTable } from '../../src/calibration/reliability';
import { coverageFigure, pitHistogramFigure, reliabilityFigure } from '../../src/plot/calibration';
import { isFigure } from '../../src/plot/figure';

type Trace = Record<string, unknown> & { x: number[]; y: number[] };

describe('reliabilityFigure', () => {
  const p = [0.05, 0.1, 0.15, 0.6, 0.65, 0.7, 0.9, 0.95];
  const y = [0, 0, 1, 1, 0, 1, 1, 1];
  const t = reliabilityTable(p, y, { bins: 4 });

  it('draws the diagonal, points with Wilson error bars, and per-bin counts below; empty bins are not drawn', () => {
    const fig = reliabilityFigure(t);
    expect(isFigure(fig)).toBe(true);
    const [diag, points, bars] = fig.data as Trace[];
    expect(diag.x).toEqual([0, 1]);
    expect(diag.y).toEqual([0, 1]);
    // Bins: [0, .25] 3 forecasts, (.25, .5] empty, (.5, .75] 3, (.75, 1] 2.
    expect(points.x).toEqual([t.meanPredicted[0], t.meanPredicted[2], t.meanPredicted[3]]);
    expect(points.y).toEqual([1 / 3, 2 / 3, 1]);
    const err = points.error_y as { array: number[]; arrayminus: number[] };
    expect(err.array[0]).toBeCloseTo(t.ciHigh[0] - 1 / 3, 15);
    expect(err.arrayminus[2]).toBeCloseTo(1 - t.ciLow[3], 15);
    expect(bars.type).toBe('bar');
    expect(bars.y).toEqual([3, 0, 3, 2]);
    expect(bars.x).toEqual([0.125, 0.375, 0.625, 0.875]);
    expect(bars.yaxis).toBe('y2');
    expect(fig.layout.yaxis2).toMatchObject({ domain: [0, 0.22] });
  });

  it('shades the consistency band between its lower and upper lines', () => {
    const band = consistencyBands(p, t, { resamples: 50, seed: 1 });
    const fig = reliabilityFigure({ table: t, name: 'pUp', band });
    const lower = fig.data[1] as Trace;
    const upper = fig.data[2] as Trace;
    expect(lower.y).toEqual([band.lower[0], band.lower[2], band.lower[3]]);
    expect(upper.fill).toBe('tonexty');
    expect(upper.name).toBe('pUp: consistency band 5-95%');
  });

  it('shows density below for quantile bins, whose counts are equal by construction', () => {
    const tq = reliabilityTable(p, y, { bins: 2, strategy: 'quantile' });
    const bars = reliabilityFigure(tq).data[2] as Trace;
    const width0 = tq.edges[1] - tq.edges[0];
    expect(bars.y[0]).toBeCloseTo(tq.count[0] / (8 * width0), 12);
    expect(bars.customdata).toEqual(Array.from(tq.count));
    expect(reliabilityFigure(tq).layout.yaxis2).toMatchObject({ title: { text: 'forecast density' } });
  });

  it('fits each axis to the data or takes fixed ranges, and refuses an impossible one', () => {
    const narrow = reliabilityTable([0.48, 0.49, 0.5, 0.51, 0.52, 0.53], [0, 1, 1, 0, 1, 1], { bins: 2, strategy: 'quantile' });
    const fit = reliabilityFigure(narrow, { axes: { kind: 'fit' } });
    const [x0, x1] = (fit.layout.xaxis as { range: number[] }).range;
    // forecast axis: bin edges 0.48..0.53, padded by max(5% of the span, 0.005) = 0.005
    expect(x0).toBeCloseTo(0.475, 12);
    expect(x1).toBeCloseTo(0.535, 12);
    const [y0, y1] = (fit.layout.yaxis as { range: number[] }).range;
    const lows = Array.from(narrow.ciLow);
    const highs = Array.from(narrow.ciHigh);
    expect(y0).toBeLessThanOrEqual(Math.min(...lows, x0));
    expect(y1).toBeGreaterThanOrEqual(Math.max(...highs, x1));
    expect((fit.layout.xaxis2 as { range: number[] }).range).toEqual([x0, x1]);
    expect(reliabilityFigure(t).layout.yaxis).toMatchObject({ range: [0, 1] });
    const fixed = reliabilityFigure(t, { axes: { kind: 'fixed', forecast: [0.4, 0.6], observed: [0.3, 0.7] } });
    expect(fixed.layout.xaxis).toMatchObject({ range: [0.4, 0.6] });
    expect(fixed.layout.yaxis).toMatchObject({ range: [0.3, 0.7] });
    expect(() => reliabilityFigure(t, { axes: { kind: 'fixed', forecast: [0.6, 0.4], observed: [0, 1] } })).toThrow(/0 <= lo < hi <= 1/);
  });

  it('overlays several series with their own names', () => {
    const fig = reliabilityFigure([
      { table: t, name: 'raw' },
      { table: t, name: 'isotonic' },
    ]);
    expect(fig.data.filter((d) => d.mode === 'lines+markers').map((d) => d.name)).toEqual(['raw', 'isotonic']);
  });
});

describe('pitHistogramFigure and coverageFigure', () => {
  it('PIT: density bars, the uniform line at 1 and the 90% range of a uniform histogram', () => {
    const h = pitHistogram([0.1, 0.3, 0.6, 0.9], 2);
    const fig = pitHistogramFigure(h);
    const bars = fig.data[0] as Trace;
    expect(bars.y).toEqual([1, 1]);
    const uniform = fig.data[3] as Trace;
    expect(uniform.y).toEqual([1, 1]);
    // n = 4, 2 bins: sd of density = sqrt(4 * 0.5 * 0.5) / 4 * 2 = 0.5.
    expect((fig.data[2] as Trace).y[0]).toBeCloseTo(1 + 1.645 * 0.5, 12);
  });

  it('coverage: nominal against observed with the diagonal', () => {
    const rows = coverageFromQuantiles([0.1, 0.5, 0.9], [0, 1, 2, 0, 1, 2], [1.5, 3]);
    const fig = coverageFigure(rows);
    const pts = fig.data[1] as Trace;
    expect(pts.x).toEqual([0.8]);
    expect(pts.y).toEqual([0.5]);
    expect(coverageFigure([{ rows, name: 'model A' }]).data[1].name).toBe('model A');
  });
});
