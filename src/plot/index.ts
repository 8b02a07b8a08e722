export type { Figure } from './figure';
export { isFigure } from './figure';
export { metricVsParameterFigure } from './sweep';
export type { SweepPoint } from './sweep';
