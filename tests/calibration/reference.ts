/** Reference values produced by scikit-learn (see make_sklearn_fixtures.py beside the JSON). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CurveCase {
  data: string;
  strategy: 'uniform' | 'quantile';
  bins: number;
  p: number[];
  y: number[];
  edges: number[];
  counts: number[];
  probTrue: number[];
  probPred: number[];
}

export interface IsotonicCase {
  name: string;
  x: number[];
  y: number[];
  weights: number[] | null;
  increasing: boolean;
  yMin: number | null;
  yMax: number | null;
  thresholdsX: number[];
  thresholdsY: number[];
  grid: number[];
  predicted: number[];
}

export interface PlattCase {
  name: string;
  scores: number[];
  y: number[];
  a: number;
  b: number;
  gradient: [number, number];
}

/** A naive 30-minute P(up) on recorded 1-minute bars (see realdata.test.ts). */
export interface RealDataReference {
  horizon: number;
  lookback: number;
  stride: number;
  n: number;
  sumP: number;
  sumY: number;
  uniform: { probTrue: number[]; probPred: number[] };
  quantile: { probTrue: number[]; probPred: number[] };
  brier: number;
  logLossClip1e15: number;
  isotonic: { thresholdsX: number[]; thresholdsY: number[] };
  plattLogit: { a: number; b: number };
}

export interface SklearnReference {
  sklearn: string;
  realData: RealDataReference;
  calibrationCurve: CurveCase[];
  scores: { p: number[]; y: number[]; brier: number; logLossClip1e15: number };
  isotonic: IsotonicCase[];
  platt: PlattCase[];
}

export const sklearn: SklearnReference = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'sklearn-reference.json'), 'utf8'));

/** Relative-or-absolute closeness: |a - b| <= tol * max(1, |b|). */
export function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}
