/**
 * The fan chart of a price-path outlook: recent bars, the sampled paths, the
 * percentile band and median, the current price and the levels tested for touches.
 */
import type { Figure } from './figure';

/** Input of {@link fanChartFigure} (plain arrays; no forecaster types needed). */
export interface FanChartInput {
  title: string;
  /** Recent bars (open times, ms UTC) drawn as candles, with optional VWAP / middle-band lines. */
  recent: { ts: Float64Array; open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array; vwap?: Float64Array; midband?: Float64Array };
  /** Open time of the current bar: every path starts there, at the entry close (each x is a bar, its y the bar's close). */
  lastOpenMs: number;
  entryClose: number;
  /** Open times of the forecast bars. */
  stepTimes: Float64Array;
  /** Closes [N, H] row-major. */
  paths: { close: Float64Array; n: number; horizon: number };
  /** Per-step percentiles: `values[k][h]` at `levels[k]`; the outer pair is filled, inner levels are lines. */
  bands: { levels: readonly number[]; values: readonly ArrayLike<number>[] };
  /** Horizontal levels drawn over the forecast span (VWAP, middle band, user levels). */
  levels?: { name: string; price: number }[];
  /** Most paths drawn (default 100; the band uses them all). */
  maxPaths?: number;
  /** Session breaks to hide on the time axis, [start, end) ms UTC. */
  breaks?: [number, number][];
  /** The closes that really followed the forecast origin (open times ms UTC), drawn as a red dotted line: a check of the fan. */
  followed?: { ts: ArrayLike<number>; close: ArrayLike<number> };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const LEVEL_COLOURS = ['#ff9800', '#8e24aa', '#00897b', '#6d4c41', '#3949ab'];

/**
 * Fan chart: candles of the recent bars, N thin path lines from the current close, the band
 * between the outermost percentiles, inner percentiles as lines (the median solid), the current
 * price as a dashed line and each level as a dotted line labelled with its name.
 * @example fanChartFigure(input).data.map((t) => t.name) // ['bars', 'paths', 'p10', 'p10-p90', 'p50', 'VWAP (session)', ...]
 */
export function fanChartFigure(input: FanChartInput): Figure {
  const { recent, paths, bands, stepTimes } = input;
  const H = paths.horizon;
  const stepX = [iso(input.lastOpenMs), ...Array.from(stepTimes, iso)];
  const shown = Math.min(paths.n, input.maxPaths ?? 100);
  // All shown paths in one trace, separated by nulls: one legend entry, fast to draw.
  const px: (string | null)[] = [];
  const py: (number | null)[] = [];
  for (let j = 0; j < shown; j++) {
    px.push(...stepX, null);
    py.push(input.entryClose, ...Array.from(paths.close.subarray(j * H, (j + 1) * H)), null);
  }
  const recentX = Array.from(recent.ts, iso);
  const data: Figure['data'] = [
    { type: 'candlestick', name: 'bars', x: recentX, open: Array.from(recent.open), high: Array.from(recent.high), low: Array.from(recent.low), close: Array.from(recent.close), increasing: { line: { color: '#26a69a' } }, decreasing: { line: { color: '#ef5350' } } },
    { type: 'scatter', mode: 'lines', name: `paths (${shown} of ${paths.n})`, x: px, y: py, line: { color: 'rgba(90, 110, 140, 0.18)', width: 1 }, hoverinfo: 'skip', connectgaps: false },
  ];
  const q = bands.levels.length;
  const band = (k: number) => [input.entryClose, ...Array.from(bands.values[k])];
  const pname = (k: number) => `p${+(100 * bands.levels[k]).toFixed(2)}`;
  if (q >= 2) {
    data.push({ type: 'scatter', mode: 'lines', name: pname(0), x: stepX, y: band(0), line: { color: 'rgba(30, 100, 200, 0.9)', width: 1 }, showlegend: false });
    data.push({ type: 'scatter', mode: 'lines', name: `${pname(0)}-${pname(q - 1)}`, x: stepX, y: band(q - 1), fill: 'tonexty', fillcolor: 'rgba(30, 100, 200, 0.15)', line: { color: 'rgba(30, 100, 200, 0.9)', width: 1 } });
  }
  for (let k = q >= 2 ? 1 : 0; k < (q >= 2 ? q - 1 : q); k++) {
    const median = Math.abs(bands.levels[k] - 0.5) < 1e-12;
    data.push({ type: 'scatter', mode: 'lines', name: pname(k), x: stepX, y: band(k), line: { color: 'rgb(20, 70, 160)', width: median ? 2.5 : 1.5, dash: median ? 'solid' : 'dash' } });
  }
  if (recent.vwap) data.push({ type: 'scatter', mode: 'lines', name: 'VWAP (session)', x: recentX, y: Array.from(recent.vwap, (v) => (Number.isFinite(v) ? v : null)), line: { color: LEVEL_COLOURS[0], width: 1.5 } });
  if (recent.midband) data.push({ type: 'scatter', mode: 'lines', name: 'middle band (SMA)', x: recentX, y: Array.from(recent.midband, (v) => (Number.isFinite(v) ? v : null)), line: { color: LEVEL_COLOURS[1], width: 1.5 } });
  const x0 = recentX[0] ?? stepX[0];
  const x1 = stepX[stepX.length - 1];
  const shapes: Record<string, unknown>[] = [
    { type: 'line', xref: 'x', yref: 'y', x0, x1, y0: input.entryClose, y1: input.entryClose, line: { color: '#222', width: 1, dash: 'dash' } },
    { type: 'line', xref: 'x', yref: 'paper', x0: stepX[0], x1: stepX[0], y0: 0, y1: 1, line: { color: '#999', width: 1, dash: 'dot' } },
  ];
  const annotations: Record<string, unknown>[] = [{ x: x0, y: input.entryClose, xref: 'x', yref: 'y', text: `now ${input.entryClose}`, showarrow: false, xanchor: 'left', yanchor: 'bottom', font: { size: 11 } }];
  (input.levels ?? []).forEach((l, i) => {
    const colour = l.name === 'vwap' ? LEVEL_COLOURS[0] : l.name === 'midband' ? LEVEL_COLOURS[1] : LEVEL_COLOURS[2 + (i % 3)];
    shapes.push({ type: 'line', xref: 'x', yref: 'y', x0: stepX[0], x1, y0: l.price, y1: l.price, line: { color: colour, width: 1.5, dash: 'dot' } });
    annotations.push({ x: x1, y: l.price, xref: 'x', yref: 'y', text: l.name, showarrow: false, xanchor: 'right', yanchor: 'bottom', font: { size: 11, color: colour } });
  });
  if (input.followed) {
    data.push({ type: 'scatter', mode: 'lines', name: 'what followed', x: Array.from(input.followed.ts, iso), y: Array.from(input.followed.close), line: { color: '#cf222e', width: 2, dash: 'dot' } });
  }
  return {
    data,
    layout: {
      title: { text: input.title },
      xaxis: { type: 'date', title: { text: 'time (UTC)' }, rangeslider: { visible: false }, ...(input.breaks?.length ? { rangebreaks: input.breaks.map(([a, b]) => ({ bounds: [iso(a), iso(b)] })) } : {}) },
      yaxis: { title: { text: 'price' } },
      shapes,
      annotations,
      showlegend: true,
      legend: { orientation: 'h', y: -0.18 },
      margin: { t: 50, r: 20, b: 40, l: 70 },
    },
  };
}
