/**
 * Plain figures that notebooks used to write inline in Plotly JSON: a histogram (with an
 * optional reference line), lines against a shared x, and sampled paths under percentile bands.
 */
import type { Figure } from './figure';

/** Axis titles and the figure's title. */
export interface AxisTitles {
  title: string;
  xTitle?: string;
  yTitle?: string;
}

const axes = (o: AxisTitles): Record<string, unknown> => ({
  title: { text: o.title },
  xaxis: { title: { text: o.xTitle ?? '' } },
  yaxis: { title: { text: o.yTitle ?? '' } },
});

/**
 * A histogram of `values`, optionally with a dotted vertical line at `vline` (e.g. 0 for returns).
 * @param opts.bins - most bins (Plotly's `nbinsx`; default 40).
 * @param opts.color - bar colour (default '#8250df').
 * @param opts.name - trace name (hover and legend); default none.
 * @example histogramFigure([1, 2, 2, 3], { title: 'returns', xTitle: 'bp', yTitle: 'paths', vline: 0 }).layout.shapes // [one dotted line at x = 0]
 */
export function histogramFigure(values: ArrayLike<number>, opts: AxisTitles & { bins?: number; color?: string; name?: string; vline?: number }): Figure {
  const trace: Record<string, unknown> = { type: 'histogram', x: Array.from(values), nbinsx: opts.bins ?? 40, marker: { color: opts.color ?? '#8250df' } };
  if (opts.name !== undefined) trace.name = opts.name;
  const layout = axes(opts);
  if (opts.vline !== undefined) layout.shapes = [{ type: 'line', x0: opts.vline, x1: opts.vline, yref: 'paper', y0: 0, y1: 1, line: { dash: 'dot' } }];
  return { data: [trace], layout };
}

/** One line of {@link linesFigure}. */
export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/**
 * Lines (one trace per series), e.g. a band's width by step for several sampler settings.
 * @param opts.markers - draw points on the lines (default false).
 * @param opts.logX - log scale on x (default false).
 * @param opts.yFromZero - the y axis starts at zero (Plotly's `rangemode: 'tozero'`; default false).
 * @example linesFigure([{ name: 'T=1', x: [1, 2], y: [10, 14] }], { title: 'band width' }).data[0].mode // 'lines'
 */
export function linesFigure(series: readonly LineSeries[], opts: AxisTitles & { markers?: boolean; logX?: boolean; yFromZero?: boolean }): Figure {
  const layout = axes(opts);
  if (opts.logX) (layout.xaxis as Record<string, unknown>).type = 'log';
  if (opts.yFromZero) (layout.yaxis as Record<string, unknown>).rangemode = 'tozero';
  return {
    data: series.map((s) => ({ type: 'scatter', mode: opts.markers ? 'lines+markers' : 'lines', name: s.name, x: Array.from(s.x), y: Array.from(s.y) })),
    layout,
  };
}

/** Input of {@link pathBandsFigure}. */
export interface PathBands {
  /** x of each step (e.g. bars ahead 0..H). */
  steps: ArrayLike<number>;
  /** Sampled paths, each one value per step. */
  paths: readonly ArrayLike<number>[];
  /** Five percentile curves per step, at `levels` (e.g. 0.05, 0.25, 0.5, 0.75, 0.95): outer and inner bands filled, the middle one as a line. */
  bands: { levels: readonly [number, number, number, number, number]; values: readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>,
    ArrayLike<number>, ArrayLike<number>] };
  /** Paths drawn (default 25; the bands use them all). */
  maxPaths?: number;
}

/**
 * Sampled paths as thin grey lines under two filled percentile bands (outer, inner) and the
 * median line.
 * @example pathBandsFigure({ steps, paths, bands: { levels: [0.05, 0.25, 0.5, 0.75, 0.95], values } }, { title: 'paths' }).data.length // 25 paths + 5 band
 * traces
 */
export function pathBandsFigure(input: PathBands, opts: AxisTitles): Figure {
  const steps = Array.from(input.steps);
  const [l0, l1, , l3, l4] = input.bands.levels;
  const [v0, v1, v2, v3, v4] = input.bands.values;
  const pct = (l: number): number => +(100 * l).toFixed(2);
  const shown = input.paths.slice(0, input.maxPaths ?? 25).map((path, i) => ({
    type: 'scatter', mode: 'lines', x: steps, y: Array.from(path), line: { width: 0.6, color: 'rgba(90,90,90,0.35)' },
    hoverinfo: 'skip', showlegend: i === 0, name: 'sampled paths',
  }));
  return {
    data: [
      ...shown,
      { type: 'scatter', mode: 'lines', x: steps, y: Array.from(v0), line: { width: 0 }, showlegend: false, hoverinfo: 'skip' },
      { type: 'scatter', mode: 'lines', x: steps, y: Array.from(v4), fill: 'tonexty', fillcolor: 'rgba(9,105,218,0.15)', line: { width: 0 }, name: `${pct(l0)}-${pct(l4)}%` },
      { type: 'scatter', mode: 'lines', x: steps, y: Array.from(v1), line: { width: 0 }, showlegend: false, hoverinfo: 'skip' },
      { type: 'scatter', mode: 'lines', x: steps, y: Array.from(v3), fill: 'tonexty', fillcolor: 'rgba(9,105,218,0.3)', line: { width: 0 }, name: `${pct(l1)}-${pct(l3)}%` },
      { type: 'scatter', mode: 'lines', x: steps, y: Array.from(v2), line: { color: '#0969da', width: 2 }, name: 'median' },
    ],
    layout: axes(opts),
  };
}

/** One group of bars of {@link groupedBarsFigure}: a value per category. */
export interface BarSeries {
  name: string;
  y: ArrayLike<number>;
  color?: string;
}

/**
 * Grouped bars: one trace per series over shared categories (e.g. features' share of gain per
 * series), or a single series against dates.
 * @param opts.dateRange - x is time: [from, to] in ms since the epoch (the axis shows that span).
 * @throws Error when a series' length differs from the categories'.
 * @example groupedBarsFigure(['rvol', 'hour'], [{ name: 'ETH_BTC', y: [30, 20] }], { title: 'gain %' }).layout.barmode // 'group'
 */
export function groupedBarsFigure(categories: readonly (string | number)[], series: readonly BarSeries[],
  opts: AxisTitles & { dateRange?: readonly [number, number] }): Figure {
  const layout = axes(opts);
  layout.barmode = 'group';
  if (opts.dateRange) Object.assign(layout.xaxis as Record<string, unknown>, { type: 'date', range: opts.dateRange.map((t) => new Date(t).toISOString()) });
  return {
    data: series.map((s) => {
      if (s.y.length !== categories.length) throw new Error(`groupedBarsFigure: ${s.name} has ${s.y.length} values for ${categories.length} categories`);
      const trace: Record<string, unknown> = { type: 'bar', name: s.name, x: [...categories], y: Array.from(s.y) };
      if (s.color !== undefined) trace.marker = { color: s.color };
      return trace;
    }),
    layout,
  };
}
