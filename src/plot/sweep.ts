/**
 * Figures for parameter sweeps: a recorded metric against one parameter, one line per setting
 * of the other parameters; and the sampler search's (notebooks/05-sweep) validation against
 * test error and its error and latency by number of paths.
 */
import { basisPoints } from '../core/format';
import { samplerSettingLabel, type SamplerGrid, type SettingResult } from '../forecast/samplerSearch';
import type { Figure } from './figure';
import { linesFigure } from './series';

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

/**
 * Validation against test `pct_return_mae` (basis points, 2 decimals) of every setting of a
 * sampler search, one marker trace per symbol (in the order of `results`), and each symbol's
 * chosen setting as a star. A choice that generalises sits near the diagonal.
 * @param best - the chosen setting per symbol (`bestPerSymbol(results)`).
 * @param opts.horizon - bars ahead, for the title.
 * @throws Error when a symbol of `results` has no entry in `best`.
 * @example samplerValidationTestFigure(search.results, bestPerSymbol(search.results), { horizon: 30 }).data.length // 2 per symbol
 */
export function samplerValidationTestFigure(results: readonly SettingResult[], best: ReadonlyMap<string, SettingResult>, opts: { horizon: number }): Figure {
  const symbols = [...new Set(results.map((r) => r.symbol))];
  const bp = (x: number): number => basisPoints(x);
  return {
    data: symbols.flatMap((sym, k) => {
      const mine = results.filter((r) => r.symbol === sym);
      const b = best.get(sym);
      if (!b) throw new Error(`samplerValidationTestFigure: no best setting for ${sym}`);
      return [
        { type: 'scatter', mode: 'markers', name: sym, x: mine.map((r) => bp(r.validation.pctReturnMae)), y: mine.map((r) => bp(r.test.pctReturnMae)),
          text: mine.map((r) => samplerSettingLabel(r.setting)), marker: { size: 6, opacity: 0.6 }, legendgroup: sym },
        { type: 'scatter', mode: 'markers', name: `${sym} best`, x: [bp(b.validation.pctReturnMae)], y: [bp(b.test.pctReturnMae)],
          text: [samplerSettingLabel(b.setting)], marker: { size: 14, symbol: 'star', line: { width: 1 } }, legendgroup: sym, showlegend: k === 0 },
      ];
    }),
    layout: {
      title: { text: `pct_return_mae over ${opts.horizon} bars: validation vs test, every setting` },
      xaxis: { title: { text: 'validation MAE of the return (bp)' } },
      yaxis: { title: { text: 'test MAE of the return (bp)' } },
    },
  };
}

/** What {@link samplerByPathsFigure} plots: validation `pct_return_mae` (bp) or single-window latency (ms). */
export type SamplerMeasure = 'validationMae' | 'latency';

/**
 * One knob of a sampler search against the number of paths (log x): the mean over symbols and
 * the other knobs of the validation `pct_return_mae` (bp of the mean, 2 decimals) or of the
 * latency (ms, y from zero), one line per value of `lines` in the grid's order, x in the grid's
 * order of `samples`. A (paths, line) with no results gives NaN.
 * @param opts.lines - the knob drawn as lines (`aggregation`: named by the aggregate; `lookback`: `lookback L`).
 * @example samplerByPathsFigure(search.results, grid, { measure: 'latency', lines: 'lookback' }).layout.title
 * // { text: 'latency of one forecast by paths and lookback' }
 */
export function samplerByPathsFigure(results: readonly SettingResult[], grid: SamplerGrid, opts: { measure: SamplerMeasure; lines: 'aggregation' | 'lookback' }): Figure {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const values: Array<string | number> = opts.lines === 'aggregation' ? grid.aggregations : grid.lookbacks;
  const word = opts.lines === 'aggregation' ? 'aggregate' : 'lookback';
  const series = values.map((v) => {
    const at = (n: number): SettingResult[] => results.filter((r) => r.setting.samples === n && r.setting[opts.lines] === v);
    return {
      name: opts.lines === 'aggregation' ? String(v) : `lookback ${v}`,
      x: grid.samples,
      y: grid.samples.map((n) => (opts.measure === 'latency' ? mean(at(n).map((r) => r.latencyMs)) : basisPoints(mean(at(n).map((r) => r.validation.pctReturnMae))))),
    };
  });
  return opts.measure === 'latency'
    ? linesFigure(series, { title: `latency of one forecast by paths and ${word}`, xTitle: 'sampled paths', yTitle: 'ms (median, single window)', markers: true, logX: true, yFromZero: true })
    : linesFigure(series, { title: `validation MAE by paths and ${word} (mean over symbols and settings)`, xTitle: 'sampled paths', yTitle: 'MAE of the return (bp)', markers: true, logX: true });
}
