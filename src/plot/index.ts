export type { Figure } from './figure';
export { isFigure } from './figure';
