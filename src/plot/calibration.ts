/**
 * Plotly figures for calibration: reliability diagram, PIT histogram,
 * interval coverage. Plain JSON; no plotly.js needed to build them.
 */
import type { ConsistencyBand } from '../calibration/consistency';
import { ConfigError } from '../core/errors';
import type { CoverageRow } from '../calibration/coverage';
import type { PitHistogram } from '../calibration/pit';
import type { ReliabilityTable } from '../calibration/reliability';
import type { Figure } from './figure';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const GREY = '#7f7f7f';

/** One set of forecasts on a reliability diagram. */
export interface ReliabilitySeries {
  table: ReliabilityTable;
  /** Legend name; default `forecasts` (then `series 2`, ...). */
  name?: string;
  /** Consistency band to shade around the diagonal for this series. */
  band?: ConsistencyBand;
}

function nonEmpty(table: ReliabilityTable): number[] {
  const bins: number[] = [];
  for (let b = 0; b < table.count.length; b++) if (table.count[b] > 0) bins.push(b);
  return bins;
}

function rgba(hex: string, alpha: number): string {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
}

/** Axis ranges of a reliability diagram: both [0, 1], fitted to the data, or given. */
export type ReliabilityAxes =
  | { kind: 'full' }
  | { kind: 'fit' }
  | { kind: 'fixed'; forecast: [number, number]; observed: [number, number] };

function axisRanges(list: ReliabilitySeries[], axes: ReliabilityAxes): { forecast: [number, number]; observed: [number, number] } {
  if (axes.kind === 'full') return { forecast: [0, 1], observed: [0, 1] };
  if (axes.kind === 'fixed') {
    for (const [key, r] of [['forecast', axes.forecast], ['observed', axes.observed]] as const) {
      if (!(r[0] >= 0 && r[0] < r[1] && r[1] <= 1)) throw new ConfigError(`reliability axis range must satisfy 0 <= lo < hi <= 1`, { key: `axes.${key}`, value: r });
    }
    return { forecast: axes.forecast, observed: axes.observed };
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of list) {
    for (const b of nonEmpty(s.table)) {
      xs.push(s.table.edges[b], s.table.edges[b + 1]);
      ys.push(s.table.ciLow[b], s.table.ciHigh[b]);
      if (s.band && !Number.isNaN(s.band.lower[b])) ys.push(s.band.lower[b], s.band.upper[b]);
    }
  }
  const pad = (v: number[]): [number, number] => {
    if (v.length === 0) return [0, 1];
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const m = Math.max(0.05 * (hi - lo), 0.005);
    return [Math.max(0, lo - m), Math.min(1, hi + m)];
  };
  const forecast = pad(xs);
  // The observed axis also spans the forecast range, so the diagonal crosses the plot.
  return { forecast, observed: pad([...ys, ...forecast]) };
}

/**
 * Reliability diagram: observed frequency against mean forecast per bin, with
 * the diagonal of perfect calibration, Wilson intervals as error bars, the
 * consistency band (when given) shaded around the diagonal, and below it the
 * number of forecasts per bin (uniform bins) or their density (count / (n *
 * bin width), when any series has quantile bins, whose counts are equal by
 * construction). Empty bins are not drawn.
 *
 * @param series - a table, or several series (e.g. before and after recalibration) drawn in the same axes.
 * @param options - `title`; `axes`: `full` (both axes [0, 1], the default), `fit` (each axis
 *   zoomed to the data: the forecast axis to the non-empty bins, the observed axis to the
 *   intervals and bands, both padded by 5% of their span, at least 0.005; for forecasts in a
 *   narrow band around a coin flip)
 *   or `fixed` ranges.
 * @throws ConfigError for a fixed range that is not 0 <= lo < hi <= 1.
 * @example
 * const t = reliabilityTable(p, y);
 * reliabilityFigure({ table: t, name: 'pUp', band: consistencyBands(p, t, { seed: 1 }) }, { title: 'BTC 30-bar P(up)' });
 */
export function reliabilityFigure(series: ReliabilityTable | ReliabilitySeries | ReliabilitySeries[],
  options: { title?: string; axes?: ReliabilityAxes } = {}): Figure {
  const list: ReliabilitySeries[] = Array.isArray(series) ? series : 'table' in series ? [series] : [{ table: series }];
  const { forecast: xRange, observed: yRange } = axisRanges(list, options.axes ?? { kind: 'full' });
  const data: Array<Record<string, unknown>> = [
    {
      type: 'scatter',
      mode: 'lines',
      x: [0, 1],
      y: [0, 1],
      name: 'perfect calibration',
      line: { color: GREY, dash: 'dash', width: 1 },
      hoverinfo: 'skip',
      xaxis: 'x',
      yaxis: 'y',
    },
  ];
  // Equal-mass bins hold equal counts by construction; their density shows where forecasts lie.
  const density = list.some((s) => s.table.strategy !== 'uniform');
  list.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const name = s.name ?? (k === 0 ? 'forecasts' : `series ${k + 1}`);
    const t = s.table;
    const bins = nonEmpty(t);
    if (s.band !== undefined) {
      const band = s.band;
      const banded = bins.filter((b) => !Number.isNaN(band.lower[b]));
      const x = banded.map((b) => t.meanPredicted[b]);
      const pct = `${Math.round(((1 - band.level) / 2) * 100)}-${Math.round(((1 + band.level) / 2) * 100)}%`;
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: banded.map((b) => band.lower[b]),
        line: { width: 0 },
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: `band-${k}`,
        xaxis: 'x',
        yaxis: 'y',
      });
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: banded.map((b) => band.upper[b]),
        fill: 'tonexty',
        fillcolor: rgba(color, 0.15),
        line: { width: 0 },
        name: `${name}: consistency band ${pct}`,
        legendgroup: `band-${k}`,
        hoverinfo: 'skip',
        xaxis: 'x',
        yaxis: 'y',
      });
    }
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x: bins.map((b) => t.meanPredicted[b]),
      y: bins.map((b) => t.observed[b]),
      error_y: {
        type: 'data',
        symmetric: false,
        array: bins.map((b) => t.ciHigh[b] - t.observed[b]),
        arrayminus: bins.map((b) => t.observed[b] - t.ciLow[b]),
        color,
        thickness: 1,
      },
      customdata: bins.map((b) => [t.count[b], t.ciLow[b], t.ciHigh[b], t.edges[b], t.edges[b + 1]]),
      hovertemplate:
        'bin (%{customdata[3]:.3f}, %{customdata[4]:.3f}]<br>mean forecast %{x:.3f}<br>observed %{y:.3f}' +
        '<br>95% CI [%{customdata[1]:.3f}, %{customdata[2]:.3f}]<br>n = %{customdata[0]}<extra>' +
        name +
        '</extra>',
      name,
      marker: { color, size: 7 },
      line: { color, width: 1.5 },
      xaxis: 'x',
      yaxis: 'y',
    });
    data.push({
      type: 'bar',
      x: Array.from({ length: t.count.length }, (_, b) => (t.edges[b] + t.edges[b + 1]) / 2),
      width: Array.from({ length: t.count.length }, (_, b) => t.edges[b + 1] - t.edges[b]),
      y: Array.from(t.count, (c, b) => {
        const width = t.edges[b + 1] - t.edges[b];
        return !density ? c : width > 0 ? c / (t.n * width) : null;
      }),
      customdata: Array.from(t.count),
      name: `${name}: forecasts per bin`,
      marker: { color: rgba(color, 0.5), line: { color, width: 1 } },
      showlegend: false,
      hovertemplate: (density ? 'density %{y:.3f}<br>' : '') + 'forecasts %{customdata}<extra>' + name + '</extra>',
      xaxis: 'x2',
      yaxis: 'y2',
    });
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? 'Reliability diagram' },
      xaxis: { range: xRange, anchor: 'y', showticklabels: false, zeroline: false },
      yaxis: { domain: [0.3, 1], range: yRange, title: { text: 'observed frequency' }, zeroline: false },
      xaxis2: { range: xRange, anchor: 'y2', matches: 'x', title: { text: 'forecast probability' } },
      yaxis2: { domain: [0, 0.22], title: { text: density ? 'forecast density' : 'forecasts' }, rangemode: 'tozero' },
      barmode: 'overlay',
      bargap: 0,
      legend: { x: 0.01, y: 0.99, bgcolor: 'rgba(255,255,255,0.7)' },
      margin: { t: 50, r: 20, b: 50, l: 60 },
      height: 620,
    },
  };
}

/**
 * PIT histogram: density per bin against the uniform density 1 (the line), with
 * the 90% range a uniform PIT of the same size would show per bin (binomial,
 * normal approximation) shaded, so noise is not read as miscalibration.
 * @example
 * pitHistogramFigure(pitHistogram(pitFromSamples(samples, 200, realized), 20), { title: 'PIT, 30-bar horizon' });
 */
export function pitHistogramFigure(hist: PitHistogram, options: { title?: string } = {}): Figure {
  const nBins = hist.counts.length;
  const width = 1 / nBins;
  // Binomial count per bin under uniformity: mean n/B, sd sqrt(n (1/B)(1 - 1/B)); 1.645 sd is a 90% range.
  const sdDensity = (Math.sqrt(hist.n * width * (1 - width)) / hist.n) * nBins;
  const lo = Math.max(0, 1 - 1.645 * sdDensity);
  const hi = 1 + 1.645 * sdDensity;
  return {
    data: [
      {
        type: 'bar',
        x: Array.from({ length: nBins }, (_, b) => (hist.edges[b] + hist.edges[b + 1]) / 2),
        width: Array.from({ length: nBins }, (_, b) => hist.edges[b + 1] - hist.edges[b]),
        y: Array.from(hist.density),
        customdata: Array.from(hist.counts),
        hovertemplate: 'PIT (%{x:.3f} ± half a bin)<br>density %{y:.3f}<br>count %{customdata}<extra></extra>',
        name: 'PIT density',
        marker: { color: rgba(COLORS[0], 0.6), line: { color: COLORS[0], width: 1 } },
      },
      { type: 'scatter', mode: 'lines', x: [0, 1], y: [lo, lo], line: { width: 0 }, hoverinfo: 'skip', showlegend: false },
      {
        type: 'scatter',
        mode: 'lines',
        x: [0, 1],
        y: [hi, hi],
        fill: 'tonexty',
        fillcolor: 'rgba(127,127,127,0.15)',
        line: { width: 0 },
        name: '90% range if uniform',
        hoverinfo: 'skip',
      },
      { type: 'scatter', mode: 'lines', x: [0, 1], y: [1, 1], name: 'uniform', line: { color: GREY, dash: 'dash' }, hoverinfo: 'skip' },
    ],
    layout: {
      title: { text: options.title ?? `PIT histogram (n = ${hist.n})` },
      xaxis: { range: [0, 1], title: { text: 'PIT value' } },
      yaxis: { title: { text: 'density' }, rangemode: 'tozero' },
      bargap: 0,
      margin: { t: 50, r: 20, b: 50, l: 60 },
    },
  };
}

/** One set of coverage rows on a coverage plot. */
export interface CoverageSeries {
  rows: CoverageRow[];
  name?: string;
}

/**
 * Coverage plot: observed share of outcomes inside each central interval
 * against its nominal level, with Wilson intervals and the diagonal. Points
 * below the diagonal: intervals too narrow.
 * @example
 * coverageFigure(coverageFromSamples(samples, 200, realized), { title: 'Interval coverage' });
 */
export function coverageFigure(series: CoverageRow[] | CoverageSeries[], options: { title?: string } = {}): Figure {
  const list: CoverageSeries[] = series.length > 0 && 'rows' in series[0] ? (series as CoverageSeries[]) : [{ rows: series as CoverageRow[] }];
  const data: Array<Record<string, unknown>> = [
    { type: 'scatter', mode: 'lines', x: [0, 1], y: [0, 1], name: 'nominal = observed', line: { color: GREY, dash: 'dash', width: 1 }, hoverinfo: 'skip' },
  ];
  list.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const name = s.name ?? (k === 0 ? 'forecasts' : `series ${k + 1}`);
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x: s.rows.map((r) => r.level),
      y: s.rows.map((r) => r.observed),
      error_y: {
        type: 'data',
        symmetric: false,
        array: s.rows.map((r) => r.ciHigh - r.observed),
        arrayminus: s.rows.map((r) => r.observed - r.ciLow),
        color,
        thickness: 1,
      },
      customdata: s.rows.map((r) => [r.inside, r.n]),
      hovertemplate: 'nominal %{x:.2f}<br>observed %{y:.3f}<br>%{customdata[0]} of %{customdata[1]}<extra>' + name + '</extra>',
      name,
      marker: { color, size: 8 },
      line: { color },
    });
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? 'Central-interval coverage' },
      xaxis: { range: [0, 1], title: { text: 'nominal coverage' } },
      yaxis: { range: [0, 1], title: { text: 'observed coverage' } },
      legend: { x: 0.01, y: 0.99 },
      margin: { t: 50, r: 20, b: 50, l: 60 },
    },
  };
}
