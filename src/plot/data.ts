/**
 * Figures of market bars: candlesticks with volume, optionally with session VWAP; funding rates.
 */
import type { BarArrays } from '../data/bars';
import type { Figure } from './figure';
import { groupedBarsFigure } from './series';

/** Options of {@link candlestickFigure}. */
export interface CandlestickOptions {
  title?: string;
  /** Session VWAP per bar to overlay (same length as the bars), e.g. from `sessionVwapArrays`. */
  vwap?: Float64Array;
  /** Plot on a category axis so that nights, weekends and breaks take no space. Default false (a date axis). */
  hideEmptyTime?: boolean;
}

/**
 * A candlestick chart of one symbol's bars over a volume bar chart (volume on a lower panel
 * sharing the time axis), timestamps shown in UTC.
 * @example candlestickFigure(barsToArrays(bars), { title: 'ETH_BTC 5m' }).data.length // 2
 */
export function candlestickFigure(a: BarArrays, opts: CandlestickOptions = {}): Figure {
  // Category axes show the text as is: keep it short there.
  const x = Array.from(a.ts, (t) => (opts.hideEmptyTime ? new Date(t).toISOString().slice(0, 16).replace('T', ' ') : new Date(t).toISOString()));
  const up = Array.from(a.close, (c, i) => (c >= a.open[i] ? '#26a69a' : '#ef5350'));
  const data: Figure['data'] = [
    {
      type: 'candlestick',
      name: a.symbol ?? 'price',
      x,
      open: Array.from(a.open),
      high: Array.from(a.high),
      low: Array.from(a.low),
      close: Array.from(a.close),
      xaxis: 'x',
      yaxis: 'y',
    },
    { type: 'bar', name: 'volume', x, y: Array.from(a.volume), marker: { color: up }, xaxis: 'x', yaxis: 'y2', showlegend: false },
  ];
  if (opts.vwap) {
    data.push({ type: 'scatter', mode: 'lines', name: 'session VWAP', x, y: Array.from(opts.vwap, (v) => (Number.isNaN(v) ? null : v)), line: { color: '#ff9800', width: 1.5 }, xaxis: 'x', yaxis: 'y' });
  }
  return {
    data,
    layout: {
      title: { text: opts.title ?? `${a.symbol ?? 'bars'}` },
      // The shared time axis sits under the volume panel.
      xaxis: { rangeslider: { visible: false }, type: opts.hideEmptyTime ? 'category' : 'date', anchor: 'y2', nticks: 8, title: { text: 'time (UTC)' } },
      yaxis: { domain: [0.28, 1], title: { text: 'price' } },
      yaxis2: { domain: [0, 0.22], title: { text: 'volume' } },
      showlegend: true,
      margin: { t: 40, r: 20, b: 40, l: 60 },
    },
  };
}

/**
 * A funding-rate series as bars (basis points per funding period; positive: longs pay), on a
 * date axis spanning [from, to] (e.g. the backtest's first and last bar), with the rates inside
 * that span only.
 * @param rates - funding times (ms since the epoch) and rates (fractions per period), e.g. from `fundingToArrays`.
 * @param opts.title - figure title; `opts.from`, `opts.to` - the span, ms since the epoch.
 * @example fundingRateFigure(fundingToArrays(loadFundingRates(file)), { title: 'XRP funding', from: ts[0], to: ts[ts.length - 1] }).data[0].type // 'bar'
 */
export function fundingRateFigure(rates: { ts: ArrayLike<number>; rate: ArrayLike<number> }, opts: { title: string; from: number; to: number }): Figure {
  const x: string[] = [];
  const y: number[] = [];
  for (let i = 0; i < rates.ts.length; i++) {
    const t = rates.ts[i];
    if (t >= opts.from && t <= opts.to) {
      x.push(new Date(t).toISOString());
      y.push(rates.rate[i] * 1e4);
    }
  }
  return groupedBarsFigure(x, [{ name: 'funding rate', y, color: '#8250df' }], {
    title: opts.title, xTitle: 'time (UTC)', yTitle: 'rate (bp per period; + longs pay)', dateRange: [opts.from, opts.to],
  });
}
