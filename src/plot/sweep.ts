/**
 * Figures for parameter sweeps: a recorded metric against one parameter,
 * one line per setting of the other parameters.
 */
import type { Figure } from './figure';

/** One finished combination seen from one parameter. */
export interface SweepPoint {
  /** The parameter's value in this combination. */
  x: number | string | boolean | null;
  /** The metric's value. */
  y: number;
  /** The other parameters' values, e.g. `seed=1, nPaths=500`; one trace per group. */
  group: string;
}

const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#953800', '#6e7781'];

/**
 * `metric` against `parameter`, one line-and-marker trace per group (at most
 * 8 groups get their own trace; beyond that all points share one trace with
 * the group in the hover text). Numeric parameters get a numeric axis sorted
 * by value; others a categorical axis.
 * @example metricVsParameterFigure([{ x: 15, y: 0.52, group: '' }, { x: 30, y: 0.55, group: '' }], 'pUp', 'horizon').data.length // 1
 */
export function metricVsParameterFigure(points: SweepPoint[], metric: string, parameter: string): Figure {
  const numeric = points.every((p) => typeof p.x === 'number');
  const groups = [...new Set(points.map((p) => p.group))];
  const split = groups.length <= PALETTE.length;
  const traces = (split ? groups : ['']).map((g, i) => {
    const pts = points.filter((p) => !split || p.group === g).sort((a, b) => (numeric ? (a.x as number) - (b.x as number) : 0));
    return {
      type: 'scatter',
      mode: split && numeric ? 'lines+markers' : 'markers',
      name: g || metric,
      x: pts.map((p) => (numeric ? p.x : String(p.x))),
      y: pts.map((p) => p.y),
      text: pts.map((p) => p.group),
      hovertemplate: `${parameter}=%{x}<br>${metric}=%{y}<br>%{text}<extra></extra>`,
      marker: { color: PALETTE[i % PALETTE.length], size: 8 },
      line: { color: PALETTE[i % PALETTE.length] },
    };
  });
  return {
    data: traces,
    layout: {
      title: { text: `${metric} vs ${parameter}` },
      xaxis: { title: { text: parameter }, type: numeric ? 'linear' : 'category' },
      yaxis: { title: { text: metric } },
      height: 340,
      margin: { l: 60, r: 20, t: 50, b: 50 },
      showlegend: split && groups.length > 1,
    },
  };
}
