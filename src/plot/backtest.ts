/**
 * Figures of backtest results: equity with drawdown, gross leverage against its caps,
 * where and how often each limit bound, Monte Carlo distributions, and regimes on price.
 * Plain Plotly JSON; times shown in UTC.
 */
import { classRules } from '../backtest/config';
import { LIMIT_NAMES, type BacktestResult } from '../backtest/result';
import type { MonteCarloResult } from '../backtest/montecarlo';
import { REGIME_NAMES } from '../backtest/regime';
import { drawdown } from '../backtest/stats';
import type { Figure } from './figure';

const iso = (ts: ArrayLike<number>): string[] => Array.from(ts, (t) => new Date(t).toISOString());

/** Plotly's default colour cycle, set explicitly where two traces of a series must share a colour. */
const SERIES_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** An equity curve (one run, or several to overlay). */
export interface EquitySeries {
  label: string;
  ts: Float64Array;
  equity: Float64Array;
}

/**
 * Equity on top and drawdown (percent below the running peak) below, sharing the time
 * axis; several curves overlay (e.g. one per forecaster). Kill-switch events of a run
 * are marked with their switch's name. `logY` puts the equity panel on a log scale (curves that
 * differ by orders of magnitude, e.g. beside the oracle); the drawdown panel stays linear.
 * @example equityFigure([{ label: 'historical', ts: r.ts, equity: r.equity }], { killEvents: r.killEvents }).data.length // 2
 * @example equityFigure(series, { logY: true }).layout.yaxis // { domain: [0.35, 1], title: { text: 'equity' }, type: 'log' }
 */
export function equityFigure(series: readonly EquitySeries[], opts: { title?: string; killEvents?: BacktestResult['killEvents']; logY?: boolean } = {}): Figure {
  const data: Figure['data'] = [];
  series.forEach((s, i) => {
    const x = iso(s.ts);
    const dd = drawdown(s.ts, s.equity).series;
    // One colour per series on both panels, so that each drawdown reads against its equity curve.
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    data.push({ type: 'scatter', mode: 'lines', name: s.label, legendgroup: s.label, x, y: Array.from(s.equity), xaxis: 'x', yaxis: 'y', line: { width: 1.5, color } });
    data.push({ type: 'scatter', mode: 'lines', name: `${s.label} drawdown`, legendgroup: s.label, showlegend: false, x, y: Array.from(dd, (d) => (d === 0 ? 0 : -100 * d)), xaxis: 'x', yaxis: 'y2', fill: i === 0 ? 'tozeroy' : 'none', line: { width: 1, color } });
  });
  const events = opts.killEvents ?? [];
  if (events.length > 0 && series.length > 0) {
    const s = series[0];
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: 'kill switch',
      x: iso(events.map((e) => e.time)),
      y: events.map((e) => s.equity[Math.min(e.bar, s.equity.length - 1)]),
      text: events.map((e) => `${e.switch} (${e.action.kind}) value ${e.value.toPrecision(3)}`),
      marker: { symbol: 'x', size: 9, color: '#d62728' },
      xaxis: 'x',
      yaxis: 'y',
    });
  }
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'equity and drawdown' },
      xaxis: { type: 'date', anchor: 'y2', title: { text: 'time (UTC)' } },
      yaxis: { domain: [0.35, 1], title: { text: 'equity' }, ...(opts.logY ? { type: 'log' } : {}) },
      yaxis2: { domain: [0, 0.28], title: { text: 'drawdown %' } },
      margin: { t: 40, r: 20, b: 40, l: 70 },
    },
  };
}

/**
 * Gross exposure / equity over time, with the caps of the run's classes as lines.
 * @example exposureFigure(result).data[0].name // 'gross leverage'
 */
export function exposureFigure(result: BacktestResult, opts: { title?: string } = {}): Figure {
  const x = iso(result.ts);
  const lev = Array.from(result.grossExposure, (g, i) => g / result.equity[i]);
  const data: Figure['data'] = [{ type: 'scatter', mode: 'lines', name: 'gross leverage', x, y: lev, line: { width: 1 } }];
  const caps = new Map<string, number>();
  for (const c of new Set(result.classes)) {
    const rules = classRules(result.config, c);
    caps.set(`${c} intraday cap`, rules.grossIntraday);
    caps.set(`${c} at-close cap`, rules.grossAtClose);
  }
  for (const [name, v] of caps) data.push({ type: 'scatter', mode: 'lines', name, x: [x[0], x[x.length - 1]], y: [v, v], line: { dash: 'dot', width: 1 } });
  return {
    data,
    layout: { title: { text: opts.title ?? 'gross leverage' }, xaxis: { type: 'date', title: { text: 'time (UTC)' } }, yaxis: { title: { text: 'gross exposure / equity' } }, margin: { t: 40, r: 20, b: 40, l: 60 } },
  };
}

/**
 * Where the limits bound: a bar chart of counts per limit and symbol (stacked), and a
 * timeline of the bars at which each limit bound.
 * @example limitBindingFigure(result).data.length // one bar trace per symbol + one timeline trace per limit that bound
 */
export function limitBindingFigure(result: BacktestResult, opts: { title?: string } = {}): Figure {
  const data: Figure['data'] = result.symbols.map((sym, s) => ({
    type: 'bar',
    name: sym,
    x: [...LIMIT_NAMES],
    y: LIMIT_NAMES.map((l) => result.limits.bySymbol[l][s]),
    xaxis: 'x',
    yaxis: 'y',
  }));
  LIMIT_NAMES.forEach((limit, i) => {
    const binding: number[] = [];
    for (let t = 0; t < result.limits.bindingMask.length; t++) if (result.limits.bindingMask[t] & (1 << i)) binding.push(result.ts[t]);
    const x = iso(binding);
    if (x.length > 0) data.push({ type: 'scatter', mode: 'markers', name: `${limit} binds`, x, y: x.map(() => limit), marker: { size: 3 }, xaxis: 'x2', yaxis: 'y2', showlegend: false });
  });
  return {
    data,
    layout: {
      title: { text: opts.title ?? 'limit binds (per bar and symbol)' },
      barmode: 'stack',
      grid: { rows: 2, columns: 1, pattern: 'independent' },
      xaxis: { title: { text: 'limit (in the order applied)' } },
      yaxis: { title: { text: 'binds' } },
      xaxis2: { type: 'date', title: { text: 'time (UTC)' } },
      yaxis2: { type: 'category', categoryarray: [...LIMIT_NAMES] },
      margin: { t: 40, r: 20, b: 40, l: 100 },
    },
  };
}

/**
 * Histograms of a Monte Carlo result: final equity and maximum drawdown across paths,
 * with the 5th, 50th and 95th percentiles marked (dotted); `realised` marks what the run itself
 * had (a solid red line on that histogram), to read it against the paths.
 * @example monteCarloFigure(bootstrapTrades(returns)).data.length // 2
 * @example monteCarloFigure(mc.bars, { realised: { maxDrawdownPct: stats.maxDrawdownPct } }).layout.shapes.length // 7
 */
export function monteCarloFigure(mc: MonteCarloResult, opts: { title?: string; realised?: { finalEquity?: number; maxDrawdownPct?: number } } = {}): Figure {
  const marks = (d: MonteCarloResult['finalEquity'], axis: string): Array<Record<string, unknown>> =>
    (['p05', 'p50', 'p95'] as const).map((k) => ({ type: 'line', xref: axis, yref: 'paper', x0: d[k], x1: d[k], y0: 0, y1: 1, line: { dash: 'dot', width: 1 } }));
  const realised = (v: number | undefined, axis: string): Array<Record<string, unknown>> =>
    (v === undefined ? [] : [{ type: 'line', xref: axis, yref: 'paper', x0: v, x1: v, y0: 0, y1: 1, line: { color: '#d62728', width: 2 } }]);
  return {
    data: [
      { type: 'histogram', name: 'final equity', x: Array.from(mc.samples.finalEquity), xaxis: 'x', yaxis: 'y', nbinsx: 50 },
      { type: 'histogram', name: 'max drawdown %', x: Array.from(mc.samples.maxDrawdownPct), xaxis: 'x2', yaxis: 'y2', nbinsx: 50 },
    ],
    layout: {
      title: { text: opts.title ?? `${mc.method}: ${mc.simulations} paths, P(ruin) ${mc.ruinProbability.toFixed(3)}` },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'final equity' } },
      xaxis2: { title: { text: 'max drawdown %' } },
      yaxis: { title: { text: 'paths' } },
      shapes: [...marks(mc.finalEquity, 'x'), ...marks(mc.maxDrawdownPct, 'x2'), ...realised(opts.realised?.finalEquity, 'x'), ...realised(opts.realised?.maxDrawdownPct, 'x2')],
      showlegend: false,
      margin: { t: 40, r: 20, b: 40, l: 60 },
    },
  };
}

/**
 * One symbol's closes coloured by regime label (trend, chop, highVol, shock).
 * @example regimeFigure(ts, closes, labels, 'ETH_BTC').data.length // 4, one trace per regime
 */
export function regimeFigure(ts: Float64Array, close: Float64Array, labels: Uint8Array, symbol = 'price'): Figure {
  const colors = ['#2ca02c', '#7f7f7f', '#ff7f0e', '#d62728'];
  const x = iso(ts);
  return {
    data: REGIME_NAMES.map((name, k) => ({
      type: 'scatter',
      mode: 'markers',
      name,
      x,
      y: Array.from(close, (c, i) => (labels[i] === k ? c : null)),
      marker: { size: 3, color: colors[k] },
    })),
    layout: { title: { text: `${symbol}: regimes` }, xaxis: { type: 'date', title: { text: 'time (UTC)' } }, yaxis: { title: { text: 'close' } }, margin: { t: 40, r: 20, b: 40, l: 60 } },
  };
}
