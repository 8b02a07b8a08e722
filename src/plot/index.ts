export type { Figure } from './figure';
export { isFigure } from './figure';
export { coverageFigure, pitHistogramFigure, reliabilityFigure } from './calibration';
export type { CoverageSeries, ReliabilitySeries } from './calibration';
export { escapeHtml, figureToHtml, plotlyJs, scriptJson } from './html';
export type { FigureHtmlOptions } from './html';
export { metricVsParameterFigure } from './sweep';
export type { SweepPoint } from './sweep';
export { candlestickFigure, type CandlestickOptions } from './data';
