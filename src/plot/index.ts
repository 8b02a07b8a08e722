export type { Figure } from './figure';
export { isFigure } from './figure';
export { candlestickFigure, type CandlestickOptions } from './data';
