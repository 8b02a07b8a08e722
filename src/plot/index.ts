export type { Figure } from './figure';
export { isFigure } from './figure';
export { candlestickFigure, type CandlestickOptions } from './data';
export { equityFigure, exposureFigure, limitBindingFigure, monteCarloFigure, regimeFigure, type EquitySeries } from './backtest';
